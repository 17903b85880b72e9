"""Rebuilds invalidate the answers cached from the data they replace, and a reset seed
leaves MongoDB and Elasticsearch agreeing (real MongoDB-wire server, ES and Redis)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.app import create_app
from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.search.indices import ensure_search_indices, plays_alias
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument, RedisClient
from pipelines.check import check_songs
from pipelines.check_plays import check_plays
from pipelines.derived import DerivedStores
from pipelines.reindex import reindex_songs
from pipelines.reindex_plays import reindex_plays
from pipelines.sync import SongSync, SyncOptions
from pipelines.sync_plays import PlaySync
from seed.generate import Counts
from seed.load import load
from tests.fixtures.app import running
from tests.fixtures.search import song_row

TOP_ARTIST = "/v1/analytics/top-artists"
PLAYS = "/v1/analytics/plays"
PLAYS_QUERY = {"from": "2024-01-01T00:00:00Z", "to": "2024-04-01T00:00:00Z"}
FAST = SyncOptions(batch_size=100, settle_s=0.0, idle_wait_s=0.05)
BIG = Counts(artists=8, songs=60, listeners=30, plays=400)
SMALL = Counts(artists=3, songs=12, listeners=6, plays=40)


@pytest.fixture
async def api(
    settings: Settings,
    es_client: AsyncElasticsearch,
    mongo_db: AsyncDatabase[MongoDocument],
    es_prefix: str,
    redis_prefix: str,
) -> AsyncIterator[httpx.AsyncClient]:
    await ensure_search_indices(es_client, settings.elasticsearch)
    async with running(create_app(settings)) as http:
        yield http


@pytest.fixture
def cache(redis_client: RedisClient, settings: Settings) -> ResponseCache:
    """A pipeline's own cache object on the API's key prefix, as the CLI builds it."""
    return ResponseCache(redis_client, settings.redis.key_prefix)


async def _cached(api: httpx.AsyncClient, path: str, params: dict[str, Any]) -> httpx.Response:
    """The answer, asked twice so it is certainly in Redis."""
    first = await api.get(path, params=params)
    again = await api.get(path, params=params)
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    return again


def _plays(rng: random.Random, songs: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    return [
        {
            "_id": ObjectId(),
            "listener_id": ObjectId(),
            "song_id": rng.choice(songs)["_id"],
            "played_at": datetime(2024, rng.randint(1, 3), rng.randint(1, 28), tzinfo=UTC),
            "country": "IT",
            "ms_played": rng.randint(1000, 300_000),
        }
        for _ in range(count)
    ]


async def test_reindex_songs_invalidates_the_cached_answers(
    api: httpx.AsyncClient,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    cache: ResponseCache,
    rng: random.Random,
) -> None:
    await mongo_db.songs.insert_many([song_row(rng) for _ in range(20)])
    await reindex_songs(mongo_db, es_client, settings.elasticsearch, cache=cache)
    before = await _cached(api, TOP_ARTIST, {"country": "IT", "limit": 1})
    star = {"id": ObjectId(), "name": "New Number One"}
    await mongo_db.songs.insert_one(song_row(rng, star, views_per_country={"IT": 10**9}))

    report = await reindex_songs(mongo_db, es_client, settings.elasticsearch, cache=cache)
    after = await api.get(TOP_ARTIST, params={"country": "IT", "limit": 1})

    assert report.cache_invalidated is True
    assert after.headers["x-cache"] == "miss"
    assert after.json()["items"][0]["artist_name"] == "New Number One"
    assert after.content != before.content


async def test_reindex_plays_invalidates_the_cached_answers(
    api: httpx.AsyncClient,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    cache: ResponseCache,
    rng: random.Random,
) -> None:
    songs = [song_row(rng) for _ in range(5)]
    await mongo_db.songs.insert_many(songs)
    await mongo_db.play_events.insert_many(_plays(rng, songs, 50))
    await reindex_plays(mongo_db, es_client, settings.elasticsearch, cache=cache, settle_s=0)
    before = await _cached(api, PLAYS, PLAYS_QUERY)
    await mongo_db.play_events.insert_many(_plays(rng, songs, 30))

    report = await reindex_plays(
        mongo_db, es_client, settings.elasticsearch, cache=cache, settle_s=0
    )
    after = await api.get(PLAYS, params=PLAYS_QUERY)

    assert report.cache_invalidated is True
    assert before.json()["total"] == 50
    assert after.headers["x-cache"] == "miss"
    assert after.json()["total"] == 80


async def test_a_seed_bumps_every_namespace_it_feeds(
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    cache: ResponseCache,
    redis_client: RedisClient,
    redis_prefix: str,
) -> None:
    derived = DerivedStores(es_client, settings.elasticsearch, cache)

    report = await load(mongo_db, SMALL, 1, derived=derived)

    generations = [
        await redis_client.get(f"{redis_prefix}cache-gen:{namespace}")
        for namespace in CacheNamespace
    ]
    assert report.derived is not None
    assert report.derived.rebuilt == ()  # no reset: the operator reindexes, as before
    assert report.derived.cache_invalidated is True
    assert generations == [b"1"] * len(CacheNamespace)  # the API's kept reads too


async def test_a_reset_seed_rebuilds_the_indices_and_invalidates_the_cache(
    api: httpx.AsyncClient,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    cache: ResponseCache,
    es_prefix: str,
) -> None:
    """The reported incident, small: a big seed synced, then a reset and a smaller reseed."""
    derived = DerivedStores(es_client, settings.elasticsearch, cache)
    await load(mongo_db, BIG, 1, derived=derived, reset=True)
    config = settings.elasticsearch
    await SongSync(mongo_db, es_client, config, options=FAST).catch_up()
    await PlaySync(mongo_db, es_client, config, options=FAST).catch_up()
    before = await _cached(api, TOP_ARTIST, {"limit": 3})

    report = await load(mongo_db, SMALL, 2, derived=derived, reset=True)
    after = await api.get(TOP_ARTIST, params={"limit": 3})
    songs = await check_songs(mongo_db, es_client, config)
    plays = await check_plays(mongo_db, es_client, plays_alias(es_prefix))

    assert (songs.lost, songs.unexpected, songs.stale) == ([], [], [])
    assert (plays.lost, plays.unexpected, plays.stale) == ([], [], [])
    assert (songs.in_elasticsearch, plays.in_elasticsearch) == (SMALL.songs, SMALL.plays)
    assert plays.in_mongo > 0  # the check compared plays below the sync's watermark
    assert after.headers["x-cache"] == "miss"
    assert after.content != before.content
    assert report.derived is not None
    assert [r.indexed for r in report.derived.rebuilt] == [SMALL.songs, SMALL.plays]
    assert report.derived.cache_invalidated is True
