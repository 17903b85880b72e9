"""A cached JSON route's answer: body from the cache, its headers, or a bare 304."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Response, status

from beatstream.cache.namespaces import CacheNamespace
from beatstream.search.cache import ResponseCache, cache_headers, not_modified

CACHED_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match ETag is current"},
    503: {"description": "Elasticsearch is unreachable; retry after the Retry-After seconds"},
}


async def cached_json(
    cache: ResponseCache,
    namespace: CacheNamespace,
    view: str,
    params: Mapping[str, Any],
    ttl_s: int,
    compute: Callable[[], Awaitable[bytes]],
    if_none_match: str | None,
) -> Response:
    """`view` names the route in the key, so two routes with equal parameters never collide."""
    cached = await cache.get_or_compute(namespace, {"view": view, **params}, ttl_s, compute)
    headers = cache_headers(cached, ttl_s)
    if not_modified(if_none_match, cached):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=cached.body, media_type="application/json", headers=headers)
