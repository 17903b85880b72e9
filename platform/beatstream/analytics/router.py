"""Thin HTTP layer for the search dashboards: validate, answer from the cache or compute.

Every answer is cached in Redis (cache-aside, `beatstream.cache`) under the namespace
of the data it reads (`CacheNamespace.SONGS` or `.PLAYS`), so whatever changes that
data (a sync batch, a reindex, a seed) invalidates it with one bump. The key is the
route plus its validated query (country upper-cased, defaults filled), so
`?country=it` and `?country=IT` share an entry. Each route is its computation; the
handler around it (cache, ETag, 304) is the shared one of `cached_search_route`.
"""

from __future__ import annotations

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
from beatstream.cache.http import Elastic, cached_search_route
from beatstream.cache.namespaces import CacheNamespace

router = APIRouter(prefix="/analytics", tags=["analytics"])

# Seconds an answer is kept in Redis. Safe to be long: every change to the data bumps
# the namespace. Clients and shared caches get a much shorter `max-age` (cache/http.py).
TOP_ARTISTS_TTL_S = 3600  # the reference design caches "top ten artists" for an hour
TOP_SONGS_TTL_S = 60
GENRES_TTL_S = 300
PLAYS_TTL_S = 60


@cached_search_route(router, "/top-artists", TopArtists, CacheNamespace.SONGS, TOP_ARTISTS_TTL_S)
async def top_artists(query: TopQuery, es: Elastic) -> bytes:
    """Top artists by views, in one country or overall"""
    return body_of(await service.top_artists(es.client, es.config, query.country, query.limit))


@cached_search_route(router, "/top-songs", TopSongs, CacheNamespace.SONGS, TOP_SONGS_TTL_S)
async def top_songs(query: TopQuery, es: Elastic) -> bytes:
    """Top songs by views, in one country or overall"""
    return body_of(await service.top_songs(es.client, es.config, query.country, query.limit))


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
