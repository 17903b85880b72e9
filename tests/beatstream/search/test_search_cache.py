"""Search responses through the Redis cache, against the real servers."""

from __future__ import annotations

import asyncio
import random

import httpx
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.app import create_app
from beatstream.cache.store import ResponseCache
from beatstream.search.indices import SONGS
from beatstream.search.repository import bulk_index_songs
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument, RedisClient
from pipelines.sync import SongSync
from tests.fixtures.app import running
from tests.fixtures.search import IndexSongs, song_row
from tests.fixtures.servers import DisposableRedis


async def _query_total(es: AsyncElasticsearch, settings: Settings) -> int:
    stats = await es.indices.stats(
        index=SONGS.alias(settings.elasticsearch.index_prefix), metric="search"
    )
    # Every copy, not just primaries: with a replica (a cluster), either copy may answer.
    return int(stats["_all"]["total"]["search"]["query_total"])


async def test_miss_then_hit_then_304(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, rng: random.Random
) -> None:
    await index_songs([song_row(rng, title="Uptown Funk")])

    first = await search_client.get("/v1/search/songs", params={"q": "funk", "limit": 5})
    second = await search_client.get("/v1/search/songs", params={"limit": 5, "q": "funk"})
    revalidated = await search_client.get(
        "/v1/search/songs",
        params={"q": "funk", "limit": 5},
        headers={"If-None-Match": second.headers["etag"]},
    )

    assert first.headers["x-cache"].lower() == "miss"
    assert second.headers["x-cache"].lower() == "hit"
    assert second.content == first.content
    assert second.headers["cache-control"] == "public, max-age=10, stale-while-revalidate=30"
    assert revalidated.status_code == 304


async def test_200_concurrent_cold_requests_make_one_elasticsearch_search(
    search_client: httpx.AsyncClient,
    index_songs: IndexSongs,
    rng: random.Random,
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    """Counted on the Elasticsearch side: the index's own query counter."""
    await index_songs([song_row(rng) for _ in range(20)])
    before = await _query_total(es_client, search_settings)

    responses = await asyncio.gather(
        *(search_client.get("/v1/search/songs", params={"genre": "pop"}) for _ in range(200))
    )

    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert await _query_total(es_client, search_settings) - before == 1


async def test_new_data_applied_by_the_sync_stops_stale_results(
    search_client: httpx.AsyncClient,
    index_songs: IndexSongs,
    rng: random.Random,
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    mongo_db: AsyncDatabase[MongoDocument],
    redis_client: RedisClient,
) -> None:
    await index_songs([song_row(rng, title="Halo")])
    params = {"q": "halo"}
    assert (await search_client.get("/v1/search/songs", params=params)).json()["total"] == 1
    assert (await search_client.get("/v1/search/songs", params=params)).headers[
        "x-cache"
    ].lower() == "hit"

    cache = ResponseCache(redis_client, search_settings.redis.key_prefix)
    sync = SongSync(mongo_db, es_client, search_settings.elasticsearch, cache=cache)
    await sync.apply([song_row(rng, title="Halo Reprise")], [])
    await es_client.indices.refresh(index=sync.alias)

    fresh = await search_client.get("/v1/search/songs", params=params)
    assert fresh.headers["x-cache"].lower() == "miss"
    assert fresh.json()["total"] == 2


async def test_redis_down_still_answers_from_elasticsearch(
    search_settings: Settings,
    disposable_redis: DisposableRedis,
    mongo_db: object,
    es_prefix: str,
    rng: random.Random,
    es_client: AsyncElasticsearch,
) -> None:
    redis = search_settings.redis.model_copy(
        update={"url": disposable_redis.url, "cluster": False, "socket_timeout_s": 0.5}
    )
    app = create_app(search_settings.model_copy(update={"redis": redis}))
    async with running(app) as http:
        await bulk_index_songs(
            es_client, SONGS.alias(es_prefix), [song_row(rng, title="Halo")], refresh=True
        )
        disposable_redis.kill()
        responses = [await http.get("/v1/search/songs", params={"q": "halo"}) for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 200]
    assert {r.headers["x-cache"].lower() for r in responses} == {"bypass"}
    assert responses[0].json()["total"] == 1
