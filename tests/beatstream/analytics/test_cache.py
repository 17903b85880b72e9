"""Analytics answers come from Redis on repeat, revalidate with ETags, and invalidate."""

from __future__ import annotations

import httpx
import pytest
from elasticsearch import AsyncElasticsearch

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.settings import Settings
from beatstream.stores.clients import RedisClient
from tests.beatstream.analytics.data import Row, index_songs

SHORT_LIVED = "public, max-age=10, stale-while-revalidate=30"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/analytics/top-artists?country=IT",
        "/v1/analytics/top-songs?country=IT",
        "/v1/analytics/genres",
        "/v1/analytics/plays?from=2024-01-01T00:00:00Z&to=2024-02-01T00:00:00Z",
    ],
)
async def test_second_call_is_a_hit_with_the_same_body(
    analytics_client: httpx.AsyncClient, indexed_songs: list[Row], path: str
) -> None:
    """Kept up to an hour in Redis, but only seconds downstream (which cannot be told of
    an invalidation), and no `Age`: a hit is as current as a fresh answer."""
    first = await analytics_client.get(path)
    second = await analytics_client.get(path)

    assert first.status_code == second.status_code == 200
    assert first.headers["x-cache"] == "miss"
    assert second.headers["x-cache"] == "hit"
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"] == SHORT_LIVED
    assert "age" not in second.headers
    assert second.headers["content-type"] == "application/json"


async def test_if_none_match_gives_304(
    analytics_client: httpx.AsyncClient, indexed_songs: list[Row]
) -> None:
    first = await analytics_client.get("/v1/analytics/top-artists", params={"country": "IT"})
    etag = first.headers["etag"]

    again = await analytics_client.get(
        "/v1/analytics/top-artists", params={"country": "IT"}, headers={"If-None-Match": etag}
    )
    other = await analytics_client.get(
        "/v1/analytics/top-artists", params={"country": "IT"}, headers={"If-None-Match": '"old"'}
    )

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert other.status_code == 200


async def test_an_unchanged_answer_revalidates_with_304_after_an_invalidation(
    analytics_client: httpx.AsyncClient,
    indexed_songs: list[Row],
    redis_client: RedisClient,
    settings: Settings,
) -> None:
    """A downstream cache whose short `max-age` ran out asks again with its ETag: when
    the data did not change, the recomputed answer has the same ETag and costs no body."""
    params = {"country": "IT"}
    first = await analytics_client.get("/v1/analytics/top-artists", params=params)
    await ResponseCache(redis_client, settings.redis.key_prefix).invalidate(CacheNamespace.SONGS)

    again = await analytics_client.get(
        "/v1/analytics/top-artists", params=params, headers={"If-None-Match": first.headers["etag"]}
    )

    assert first.headers["cache-control"] == SHORT_LIVED
    assert again.headers["x-cache"] == "miss"
    assert again.status_code == 304
    assert again.headers["cache-control"] == SHORT_LIVED


async def test_equivalent_queries_share_an_entry_and_routes_do_not(
    analytics_client: httpx.AsyncClient, indexed_songs: list[Row]
) -> None:
    await analytics_client.get("/v1/analytics/top-artists", params={"country": "IT"})

    lower = await analytics_client.get(
        "/v1/analytics/top-artists", params={"country": "it", "limit": 10}
    )
    songs = await analytics_client.get("/v1/analytics/top-songs", params={"country": "IT"})

    assert lower.headers["x-cache"] == "hit"
    assert songs.headers["x-cache"] == "miss"


async def test_invalidating_songs_recomputes_with_new_data(
    analytics_client: httpx.AsyncClient,
    indexed_songs: list[Row],
    es_client: AsyncElasticsearch,
    es_prefix: str,
    redis_client: RedisClient,
    settings: Settings,
) -> None:
    path = "/v1/analytics/top-songs"
    before = await analytics_client.get(path, params={"country": "IT", "limit": 1})
    top = indexed_songs[0] | {"views_per_country": {"IT": 10**9}, "title": "New Number One"}
    await index_songs(es_client, es_prefix, [top])

    stale = await analytics_client.get(path, params={"country": "IT", "limit": 1})
    await ResponseCache(redis_client, settings.redis.key_prefix).invalidate(CacheNamespace.SONGS)
    fresh = await analytics_client.get(path, params={"country": "IT", "limit": 1})

    assert stale.headers["x-cache"] == "hit"
    assert stale.content == before.content
    assert fresh.headers["x-cache"] == "miss"
    assert fresh.json()["items"][0]["title"] == "New Number One"
