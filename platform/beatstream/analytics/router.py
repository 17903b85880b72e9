"""Thin HTTP layer for the search dashboards: validate, answer from the cache or compute.

Every answer is cached in Redis (cache-aside, `beatstream.search.cache`) under the
namespace of the data it reads (`CacheNamespace.SONGS` or `.PLAYS`), so whatever
changes that data (a sync batch, a reindex, a seed) invalidates it with one bump. The
key is the route plus its validated query (country upper-cased, defaults filled), so
`?country=it` and `?country=IT` share an entry.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from beatstream.analytics import service
from beatstream.analytics.dependencies import IfNoneMatch
from beatstream.analytics.schemas import (
    GenreQuery,
    GenreShares,
    PlaysHistogram,
    PlaysQuery,
    TopArtists,
    TopQuery,
    TopSongs,
    body_of,
)
from beatstream.cache.namespaces import CacheNamespace
from beatstream.deps import EsDep, SettingsDep
from beatstream.search.dependencies import CacheDep
from beatstream.search.responses import CACHED_RESPONSES, cached_json

router = APIRouter(prefix="/analytics", tags=["analytics"])

# Seconds an answer is kept in Redis. Safe to be long: every change to the data bumps
# the namespace. Clients and shared caches get a much shorter `max-age` (cache.py).
TOP_ARTISTS_TTL_S = 3600  # the reference design caches "top ten artists" for an hour
TOP_SONGS_TTL_S = 60
GENRES_TTL_S = 300
PLAYS_TTL_S = 60

RESPONSES = CACHED_RESPONSES


@router.get(
    "/top-artists",
    response_model=TopArtists,
    responses=RESPONSES,
    summary="Top artists by views, in one country or overall",
)
async def top_artists(
    query: Annotated[TopQuery, Query()],
    es: EsDep,
    settings: SettingsDep,
    cache: CacheDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    async def compute() -> bytes:
        return body_of(
            await service.top_artists(es, settings.elasticsearch, query.country, query.limit)
        )

    return await cached_json(
        cache,
        CacheNamespace.SONGS,
        "top-artists",
        query.model_dump(mode="json"),
        TOP_ARTISTS_TTL_S,
        compute,
        if_none_match,
    )


@router.get(
    "/top-songs",
    response_model=TopSongs,
    responses=RESPONSES,
    summary="Top songs by views, in one country or overall",
)
async def top_songs(
    query: Annotated[TopQuery, Query()],
    es: EsDep,
    settings: SettingsDep,
    cache: CacheDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    async def compute() -> bytes:
        return body_of(
            await service.top_songs(es, settings.elasticsearch, query.country, query.limit)
        )

    return await cached_json(
        cache,
        CacheNamespace.SONGS,
        "top-songs",
        query.model_dump(mode="json"),
        TOP_SONGS_TTL_S,
        compute,
        if_none_match,
    )


@router.get(
    "/genres",
    response_model=GenreShares,
    responses=RESPONSES,
    summary="Each genre's share of views, in one country or overall",
)
async def genres(
    query: Annotated[GenreQuery, Query()],
    es: EsDep,
    settings: SettingsDep,
    cache: CacheDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    async def compute() -> bytes:
        return body_of(await service.genre_shares(es, settings.elasticsearch, query.country))

    return await cached_json(
        cache,
        CacheNamespace.SONGS,
        "genres",
        query.model_dump(mode="json"),
        GENRES_TTL_S,
        compute,
        if_none_match,
    )


@router.get(
    "/plays",
    response_model=PlaysHistogram,
    responses=RESPONSES,
    summary="Plays per day, week or month (UTC), empty periods included",
)
async def plays(
    query: Annotated[PlaysQuery, Query()],
    es: EsDep,
    settings: SettingsDep,
    cache: CacheDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    async def compute() -> bytes:
        return body_of(await service.plays_histogram(es, settings.elasticsearch, query))

    # Keyed on the query as sent: an open-ended range ("up to now") is one entry,
    # recomputed when its TTL ends, rather than a new key every second.
    return await cached_json(
        cache,
        CacheNamespace.PLAYS,
        "plays",
        query.model_dump(mode="json", by_alias=True),
        PLAYS_TTL_S,
        compute,
        if_none_match,
    )
