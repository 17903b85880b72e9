"""Thin HTTP layer for the search dashboards: validate, answer from the cache or compute.

Every answer is cached in Redis (cache-aside, `beatstream.cache`) under the namespace
of the data it reads (`CacheNamespace.SONGS` or `.PLAYS`), so whatever changes that
data (a sync batch, a reindex, a seed) invalidates it with one bump. The key is the
route plus its validated query (country upper-cased, defaults filled), so
`?country=it` and `?country=IT` share an entry. Each route is its computation; the
handler around it (cache, ETag, 304) is the shared one of `cached_search_route`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from elasticsearch import AsyncElasticsearch
from fastapi import APIRouter, Query, Response, status
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.analytics import service
from beatstream.analytics.schemas import (
    ArtistChart,
    GenreQuery,
    GenreShares,
    PlaysHistogram,
    PlaysQuery,
    SongChart,
    TopArtists,
    TopQuery,
    TopSongs,
    body_of,
)
from beatstream.cache.dependencies import CacheDep, IfNoneMatch
from beatstream.cache.http import (
    CACHED_RESPONSES,
    Elastic,
    cached_json,
    cached_search_route,
    etag_matches,
)
from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.deps import EsDep, MongoDbDep, SettingsDep
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument

router = APIRouter(prefix="/analytics", tags=["analytics"])

# Seconds an answer is kept in Redis. Safe to be long: every change to the data bumps
# the namespace. Clients and shared caches get a much shorter `max-age` (cache/http.py).
TOP_ARTISTS_TTL_S = 3600  # the reference design caches "top ten artists" for an hour
TOP_SONGS_TTL_S = 60
GENRES_TTL_S = 300
PLAYS_TTL_S = 60


CHART_TTL_S = 60  # open periods; the play sync bumps `plays` on every batch anyway
# A frozen chart never changes: downstream caches may keep it for a year, unrevalidated.
FROZEN_CACHE_CONTROL = "public, max-age=31536000, immutable"


def _frozen(body: bytes, if_none_match: str | None) -> Response:
    """A frozen chart: strong ETag (the body's digest, so byte-identical forever)."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": FROZEN_CACHE_CONTROL, "X-Cache": "frozen"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


async def _top(
    kind: service.ChartKind,
    query: TopQuery,
    all_time: Callable[[], Awaitable[bytes]],
    all_time_ttl_s: int,
    stores: tuple[AsyncElasticsearch, Settings, ResponseCache, AsyncDatabase[MongoDocument]],
    if_none_match: str | None,
) -> Response:
    """`window=all`: the counters, cached under `songs` as before. A closed period with
    a frozen chart: that chart, immutable. Otherwise the chart computed from the plays,
    cached under `plays` (keyed on the resolved date, so "today" is not served tomorrow)."""
    es, settings, cache, db = stores
    view = f"top-{kind}"
    params = query.model_dump(mode="json")
    if query.window == "all":
        return await cached_json(
            cache, CacheNamespace.SONGS, view, params, all_time_ttl_s, all_time, if_none_match
        )
    now = datetime.now(UTC)
    day = query.date or now.date()
    if service.period(query.window, day)[2] <= now:
        frozen = await service.frozen_chart(db, kind, query.window, day, query.country)
        if frozen is not None:
            return _frozen(body_of(service.head(frozen, query.limit)), if_none_match)

    async def compute() -> bytes:
        full = await service.chart(
            es, settings.elasticsearch, kind, query.window, day, query.country
        )
        return body_of(service.head(full, query.limit))

    params["date"] = day.isoformat()
    return await cached_json(
        cache, CacheNamespace.PLAYS, view, params, CHART_TTL_S, compute, if_none_match
    )


@router.get(
    "/top-artists",
    name="top_artists",
    response_model=TopArtists | ArtistChart,
    responses=CACHED_RESPONSES,
    summary="Top artists by views (all time) or by plays in a day, week or month",
)
async def top_artists(
    query: Annotated[TopQuery, Query()],
    es: EsDep,
    settings: SettingsDep,
    cache: CacheDep,
    db: MongoDbDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """`window=all` (default) answers `TopArtists`; a day, week or month `ArtistChart`."""

    async def all_time() -> bytes:
        config = settings.elasticsearch
        return body_of(await service.top_artists(es, config, query.country, query.limit))

    stores = (es, settings, cache, db)
    return await _top("artists", query, all_time, TOP_ARTISTS_TTL_S, stores, if_none_match)


@router.get(
    "/top-songs",
    name="top_songs",
    response_model=TopSongs | SongChart,
    responses=CACHED_RESPONSES,
    summary="Top songs by views (all time) or by plays in a day, week or month",
)
async def top_songs(
    query: Annotated[TopQuery, Query()],
    es: EsDep,
    settings: SettingsDep,
    cache: CacheDep,
    db: MongoDbDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """`window=all` (default) answers `TopSongs`; a day, week or month `SongChart`."""

    async def all_time() -> bytes:
        config = settings.elasticsearch
        return body_of(await service.top_songs(es, config, query.country, query.limit))

    stores = (es, settings, cache, db)
    return await _top("songs", query, all_time, TOP_SONGS_TTL_S, stores, if_none_match)


@cached_search_route(router, "/genres", GenreShares, CacheNamespace.SONGS, GENRES_TTL_S)
async def genres(query: GenreQuery, es: Elastic) -> bytes:
    """Each genre's share of views, in one country or overall"""
    return body_of(await service.genre_shares(es.client, es.config, query.country))


def _as_sent(query: PlaysQuery) -> dict[str, object]:
    """Keyed on the query as sent: an open-ended range ("up to now") is one entry,
    recomputed when its TTL ends, rather than a new key every second."""
    return query.model_dump(mode="json", by_alias=True)


@cached_search_route(
    router, "/plays", PlaysHistogram, CacheNamespace.PLAYS, PLAYS_TTL_S, key=_as_sent
)
async def plays(query: PlaysQuery, es: Elastic) -> bytes:
    """Plays per day, week or month (UTC), empty periods included"""
    return body_of(await service.plays_histogram(es.client, es.config, query))
