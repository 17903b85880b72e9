"""Erasing a listener (`DELETE /v1/listeners/{id}`) reaches the play indices through the
real play sync: synced plays are deleted, unsynced ones never arrive."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import httpx
from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from pipelines import checkpoints
from pipelines.sync import SyncOptions
from pipelines.sync_plays import ERASURES, PlaySync
from tests.fixtures.catalog import Factory

FAST = SyncOptions(batch_size=50, settle_s=0.0)


async def _play_batch(
    client: httpx.AsyncClient, listener: str, song: str, count: int, month: int = 3
) -> None:
    events = [
        {
            "listener_id": listener,
            "song_id": song,
            "country": "DE",
            "ms_played": 1000 + i,
            "played_at": f"2024-{month:02d}-{1 + i % 28:02d}T10:00:00Z",
        }
        for i in range(count)
    ]
    response = await client.post("/v1/plays/batch", json={"events": events})
    assert response.status_code == 201, response.text


async def _indexed_listeners(es: AsyncElasticsearch, sync: PlaySync) -> dict[str, int]:
    """Plays per listener behind the read alias; none when no play index was ever made."""
    if not await es.indices.exists_alias(name=sync.alias):
        return {}
    await es.indices.refresh(index=sync.alias)
    found = await es.search(
        index=sync.alias,
        size=0,
        aggs={"listeners": {"terms": {"field": "listener_id", "size": 100}}},
    )
    buckets = found["aggregations"]["listeners"]["buckets"]
    return {bucket["key"]: bucket["doc_count"] for bucket in buckets}


def _sync(
    mongo_db: AsyncDatabase[MongoDocument], es: AsyncElasticsearch, settings: Settings
) -> PlaySync:
    return PlaySync(mongo_db, es, settings.elasticsearch, options=FAST)


async def test_an_erased_listeners_synced_and_unsynced_plays_leave_the_play_indices(
    search_client: httpx.AsyncClient,
    make_listener: Factory,
    make_song: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    erased, kept = (await make_listener())["id"], (await make_listener())["id"]
    song = (await make_song())["id"]
    await _play_batch(search_client, erased, song, 30, month=1)
    await _play_batch(search_client, kept, song, 20, month=2)
    sync = _sync(mongo_db, es_client, search_settings)
    await sync.catch_up()
    assert await _indexed_listeners(es_client, sync) == {erased: 30, kept: 20}
    await _play_batch(search_client, erased, song, 5, month=4)  # past the watermark

    response = await search_client.delete(f"/v1/listeners/{erased}")
    assert response.status_code == 204, response.text
    logged = await mongo_db[ERASURES].find({}).to_list(None)

    assert [str(entry["listener_id"]) for entry in logged] == [erased]
    assert await sync.catch_up() == 1  # the erasure; the 5 unsynced plays are gone from MongoDB
    assert await _indexed_listeners(es_client, sync) == {kept: 20}
    saved = await checkpoints.load(mongo_db, "plays")
    assert (saved.erased_at, saved.erased_id) == (logged[0]["erased_at"], logged[0]["_id"])
    assert saved.deleted_id is None  # the songs' tombstone watermark, not the erasures'
    assert await sync.catch_up() == 0


async def test_a_play_read_just_before_the_erasure_is_not_indexed_after_it(
    search_client: httpx.AsyncClient,
    make_listener: Factory,
    make_song: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    """The race the log closes: a batch read from MongoDB, the listener erased (and the
    erasure applied) before that batch is written."""
    listener = (await make_listener())["id"]
    await _play_batch(search_client, listener, (await make_song())["id"], 3)
    in_flight = await mongo_db.play_events.find({}).to_list(None)
    assert (await search_client.delete(f"/v1/listeners/{listener}")).status_code == 204
    sync = _sync(mongo_db, es_client, search_settings)
    await sync.catch_up()

    result = await sync.apply(in_flight)

    assert result.succeeded == 0
    assert await _indexed_listeners(es_client, sync) == {}


async def test_an_erasure_deletes_more_plays_than_one_search_page(
    search_client: httpx.AsyncClient,
    make_listener: Factory,
    make_song: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    rng: random.Random,
) -> None:
    listener = (await make_listener())["id"]
    song = ObjectId((await make_song())["id"])
    plays: list[dict[str, Any]] = [
        {
            "_id": ObjectId(),
            "listener_id": ObjectId(listener),
            "song_id": song,
            "played_at": datetime(2024, rng.randint(1, 12), 1, tzinfo=UTC),
            "country": "SE",
            "ms_played": 1000,
        }
        for _ in range(2500)
    ]
    await mongo_db.play_events.insert_many(plays)
    sync = PlaySync(
        mongo_db,
        es_client,
        search_settings.elasticsearch,
        options=SyncOptions(batch_size=1000, settle_s=0.0),
    )
    await sync.catch_up()
    assert await _indexed_listeners(es_client, sync) == {listener: 2500}

    assert (await search_client.delete(f"/v1/listeners/{listener}")).status_code == 204
    await sync.catch_up()

    assert await _indexed_listeners(es_client, sync) == {}


async def test_an_erasure_before_any_play_index_exists_is_applied_without_error(
    search_client: httpx.AsyncClient,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    listener = (await make_listener())["id"]
    assert (await search_client.delete(f"/v1/listeners/{listener}")).status_code == 204

    assert await _sync(mongo_db, es_client, search_settings).catch_up() == 1
    assert (await checkpoints.load(mongo_db, "plays")).last_error is None


async def test_a_refused_delete_logs_no_erasure(
    search_client: httpx.AsyncClient,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    listener = await make_listener()

    stale = await search_client.delete(
        f"/v1/listeners/{listener['id']}", headers={"If-Match": '"999"'}
    )
    missing = await search_client.delete("/v1/listeners/6650f1c2a1b2c3d4e5f60718")

    assert stale.status_code == 412, stale.text
    assert missing.status_code == 404, missing.text
    assert await mongo_db[ERASURES].count_documents({}) == 0
    assert (await search_client.get(f"/v1/listeners/{listener['id']}")).status_code == 200
