"""A cached JSON answer over HTTP: its headers, `If-None-Match` and 304, and the routes
that compute it from Elasticsearch.

`If-None-Match` is parsed here only (`etag_matches`): the cached routes, the
microcache and the versioned documents (`beatstream.common.concurrency`) all ask it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from inspect import Parameter, Signature
from typing import Annotated, Any, TypeVar

from elasticsearch import AsyncElasticsearch
from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from beatstream.cache.dependencies import CacheDep, IfNoneMatch
from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import CachedResponse, ResponseCache
from beatstream.deps import EsDep, SettingsDep
from beatstream.settings import ElasticsearchSettings, Settings

Q = TypeVar("Q", bound=BaseModel)

# What browsers and shared caches may do with an answer. Redis keeps it for the route's
# TTL (up to an hour) only because every change to the data bumps its namespace; a
# downstream cache cannot be told of a bump, so it may reuse an answer for
# `SHARED_MAX_AGE_S` at most, then serve the old copy for at most
# `STALE_WHILE_REVALIDATE_S` more while it revalidates with `If-None-Match` (a 304,
# no body, when the answer is unchanged). An answer thus outlives an invalidation
# downstream by 40 s at most, whatever the Redis TTL.
SHARED_MAX_AGE_S = 10
STALE_WHILE_REVALIDATE_S = 30

CACHED_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match ETag is current"},
    503: {"description": "Elasticsearch is unreachable; retry after the Retry-After seconds"},
}


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 `If-None-Match`: weak comparison, a list of tags, or `*`; None never matches."""
    if if_none_match is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def not_modified(if_none_match: str | None, cached: CachedResponse) -> bool:
    return etag_matches(if_none_match, cached.etag)


def cache_headers(cached: CachedResponse, ttl_s: int) -> dict[str, str]:
    """Headers for a cached route, the same set on 200 and 304.

    `max-age` is the route's TTL capped at `SHARED_MAX_AGE_S`. A bypassed body is as
    fresh and correct as a miss, so it keeps `max-age`: `no-store` would send every
    repeat request to Elasticsearch exactly while the cache tier is down. A hit sends
    no `Age`: it is checked against the namespace's generation on every read, so it
    is as current as a body computed now, and an `Age` of its time in Redis would make
    every entry older than the short `max-age` useless to downstream caches.
    """
    return {
        "X-Cache": cached.status,
        "ETag": cached.etag,
        "Cache-Control": (
            f"public, max-age={min(ttl_s, SHARED_MAX_AGE_S)}, "
            f"stale-while-revalidate={STALE_WHILE_REVALIDATE_S}"
        ),
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


def validated_query(query: BaseModel) -> dict[str, Any]:
    """The default cache key: the query after validation (defaults filled, values
    normalised), so spellings that validate alike share an entry."""
    return query.model_dump(mode="json")


def add_cached_search_route(
    router: APIRouter,
    path: str,
    query_model: type[Q],
    compute: Callable[[Q, AsyncElasticsearch, ElasticsearchSettings], Awaitable[bytes]],
    *,
    name: str,
    view: str,
    namespace: CacheNamespace,
    ttl_s: int,
    response_model: type[BaseModel],
    summary: str,
    key: Callable[[Q], Mapping[str, Any]] = validated_query,
) -> None:
    """Add `GET path`: a query read into `query_model`, answered by `compute` from
    Elasticsearch through the Redis cache (`cached_json`) under `namespace`.

    The search and analytics routes differ only in these arguments, so they are a table
    of calls to this rather than copies of one handler. The handler's signature is built
    here because FastAPI reads the query model from the annotation, and one handler
    serves every model. `name` keeps the route's name (and its OpenAPI operationId).
    """

    async def endpoint(
        query: Q,
        es: AsyncElasticsearch,
        settings: Settings,
        cache: ResponseCache,
        if_none_match: str | None = None,
    ) -> Response:
        async def run() -> bytes:
            return await compute(query, es, settings.elasticsearch)

        return await cached_json(cache, namespace, view, key(query), ttl_s, run, if_none_match)

    keyword = Parameter.KEYWORD_ONLY
    signature = Signature(
        [
            Parameter("query", keyword, annotation=Annotated[query_model, Query()]),
            Parameter("es", keyword, annotation=EsDep),
            Parameter("settings", keyword, annotation=SettingsDep),
            Parameter("cache", keyword, annotation=CacheDep),
            Parameter("if_none_match", keyword, annotation=IfNoneMatch, default=None),
        ],
        return_annotation=Response,
    )
    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    router.get(
        path,
        name=name,
        response_model=response_model,
        responses=CACHED_RESPONSES,
        summary=summary,
    )(endpoint)
