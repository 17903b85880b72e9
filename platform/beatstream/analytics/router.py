"""Thin HTTP layer for the search dashboards: validate, answer from the cache or compute.

Every answer is cached in Redis (cache-aside, `beatstream.cache`) under the namespace
of the data it reads (`CacheNamespace.SONGS` or `.PLAYS`), so whatever changes that
data (a sync batch, a reindex, a seed) invalidates it with one bump. The key is the
route plus its validated query (country upper-cased, defaults filled), so
`?country=it` and `?country=IT` share an entry. The routes are one shared handler
(`add_cached_search_route`) each given its query, its computation and its TTL.
"""

from __future__ import annotations

from elasticsearch import AsyncElasticsearch
from fastapi import APIRouter

from beatstream.analytics import service
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
from beatstream.cache.http import add_cached_search_route
from beatstream.cache.namespaces import CacheNamespace
from beatstream.settings import ElasticsearchSettings

router = APIRouter(prefix="/analytics", tags=["analytics"])

# Seconds an answer is kept in Redis. Safe to be long: every change to the data bumps
# the namespace. Clients and shared caches get a much shorter `max-age` (cache/http.py).
TOP_ARTISTS_TTL_S = 3600  # the reference design caches "top ten artists" for an hour
TOP_SONGS_TTL_S = 60
GENRES_TTL_S = 300
PLAYS_TTL_S = 60


async def _top_artists(
    query: TopQuery, es: AsyncElasticsearch, config: ElasticsearchSettings
) -> bytes:
    return body_of(await service.top_artists(es, config, query.country, query.limit))


async def _top_songs(
    query: TopQuery, es: AsyncElasticsearch, config: ElasticsearchSettings
) -> bytes:
    return body_of(await service.top_songs(es, config, query.country, query.limit))


async def _genres(
    query: GenreQuery, es: AsyncElasticsearch, config: ElasticsearchSettings
) -> bytes:
    return body_of(await service.genre_shares(es, config, query.country))


async def _plays(query: PlaysQuery, es: AsyncElasticsearch, config: ElasticsearchSettings) -> bytes:
    return body_of(await service.plays_histogram(es, config, query))


add_cached_search_route(
    router,
    "/top-artists",
    TopQuery,
    _top_artists,
    name="top_artists",
    view="top-artists",
    namespace=CacheNamespace.SONGS,
    ttl_s=TOP_ARTISTS_TTL_S,
    response_model=TopArtists,
    summary="Top artists by views, in one country or overall",
)
add_cached_search_route(
    router,
    "/top-songs",
    TopQuery,
    _top_songs,
    name="top_songs",
    view="top-songs",
    namespace=CacheNamespace.SONGS,
    ttl_s=TOP_SONGS_TTL_S,
    response_model=TopSongs,
    summary="Top songs by views, in one country or overall",
)
add_cached_search_route(
    router,
    "/genres",
    GenreQuery,
    _genres,
    name="genres",
    view="genres",
    namespace=CacheNamespace.SONGS,
    ttl_s=GENRES_TTL_S,
    response_model=GenreShares,
    summary="Each genre's share of views, in one country or overall",
)
# Keyed on the query as sent: an open-ended range ("up to now") is one entry,
# recomputed when its TTL ends, rather than a new key every second.
add_cached_search_route(
    router,
    "/plays",
    PlaysQuery,
    _plays,
    name="plays",
    view="plays",
    namespace=CacheNamespace.PLAYS,
    ttl_s=PLAYS_TTL_S,
    response_model=PlaysHistogram,
    summary="Plays per day, week or month (UTC), empty periods included",
    key=lambda query: query.model_dump(mode="json", by_alias=True),
)
