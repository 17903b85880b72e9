"""A cached JSON answer over HTTP: its headers, `If-None-Match` and 304, and the routes
that compute it from Elasticsearch.

`If-None-Match` is parsed here only (`etag_matches`): the cached routes, the
microcache and the versioned documents (`beatstream.common.concurrency`) all ask it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from inspect import Parameter, Signature
from typing import Annotated, Any, TypeVar, get_type_hints

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


@dataclass(frozen=True, slots=True)
class Elastic:
    """What a cached search route computes with: the client and its settings."""

    client: AsyncElasticsearch
    config: ElasticsearchSettings


Compute = Callable[[Q, Elastic], Awaitable[bytes]]


def cached_search_route(
    router: APIRouter,
    path: str,
    response_model: type[BaseModel],
    namespace: CacheNamespace,
    ttl_s: int,
    *,
    view: str | None = None,
    key: Callable[[Q], Mapping[str, Any]] = validated_query,
) -> Callable[[Compute[Q]], Compute[Q]]:
    """Register the decorated `compute(query, elastic)` as `GET path`, answered through
    the Redis cache (`cached_json`) under `namespace` for `ttl_s`.

    The search and analytics routes differed only in their query, computation and TTL,
    so they share this one handler. From the decorated function it takes the query
    model (its `query` annotation, as FastAPI would), the route's name and OpenAPI
    operationId (its name) and the summary (its docstring). `view` names the route in
    the cache key (default: the path); `key` picks the parameters the key hashes.
    """

    def register(compute: Compute[Q]) -> Compute[Q]:
        query_model = get_type_hints(compute)["query"]

        async def endpoint(
            query: Q,
            es: AsyncElasticsearch,
            settings: Settings,
            cache: ResponseCache,
            if_none_match: str | None = None,
        ) -> Response:
            async def run() -> bytes:
                return await compute(query, Elastic(es, settings.elasticsearch))

            name = view or path.strip("/")
            return await cached_json(cache, namespace, name, key(query), ttl_s, run, if_none_match)

        # Built by hand because FastAPI reads the query model from the annotation, and
        # this one handler serves every model.
        keyword = Parameter.KEYWORD_ONLY
        endpoint.__signature__ = Signature(  # type: ignore[attr-defined]
            [
                Parameter("query", keyword, annotation=Annotated[query_model, Query()]),
                Parameter("es", keyword, annotation=EsDep),
                Parameter("settings", keyword, annotation=SettingsDep),
                Parameter("cache", keyword, annotation=CacheDep),
                Parameter("if_none_match", keyword, annotation=IfNoneMatch, default=None),
            ],
            return_annotation=Response,
        )
        router.get(
            path,
            name=compute.__name__,
            response_model=response_model,
            responses=CACHED_RESPONSES,
            summary=inspect.getdoc(compute),
        )(endpoint)
        return compute

    return register
