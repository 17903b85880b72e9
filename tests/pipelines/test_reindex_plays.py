"""Full rebuild of the monthly play indices, against the real MongoDB-wire server and ES."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId
from elasticsearch import AsyncElasticsearch, Elasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.search.indices import (
    PLAY_MAPPINGS,
    alias_targets,
    ensure_search_indices,
    play_document,
    plays_alias,
    plays_generation,
    plays_generation_of,
    plays_index,
    plays_indices,
)
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from pipelines.reindex import ReindexError
from pipelines.reindex_plays import reindex_plays
from pipelines.sync import SyncOptions
from pipelines.sync_plays import ERASURES, PlaySync
from tests.fixtures.search import song_row

FAST = SyncOptions(batch_size=100, settle_s=0.0, idle_wait_s=0.05)
MONTHS = (1, 2, 3)


def _plays(rng: random.Random, songs: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    return [
        {
            "_id": ObjectId(),
            "listener_id": ObjectId(),
            "song_id": rng.choice(songs)["_id"],
            "played_at": datetime(2024, rng.choice(MONTHS), rng.randint(1, 28), tzinfo=UTC),
            "country": "IT",
            "ms_played": rng.randint(1000, 300_000),
        }
        for _ in range(count)
    ]


@pytest.fixture
async def synced(
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    es_prefix: str,
    rng: random.Random,
) -> PlaySync:
    """300 plays over three months, synced into generation "" (the original names)."""
    await ensure_search_indices(es_client, settings.elasticsearch)
    songs = [song_row(rng) for _ in range(5)]
    await mongo_db.songs.insert_many(songs)
    await mongo_db.play_events.insert_many(_plays(rng, songs, 300))
    sync = PlaySync(mongo_db, es_client, settings.elasticsearch, cache=None, options=FAST)
    await sync.catch_up()
    await es_client.indices.refresh(index=sync.alias)
    return sync


async def _ids(es: AsyncElasticsearch, index: str) -> set[str]:
    await es.indices.refresh(index=index)
    response = await es.search(index=index, size=10_000, source=False)
    return {hit["_id"] for hit in response["hits"]["hits"]}


async def test_a_rebuild_swaps_every_month_at_once_and_drops_the_old_generation(
    synced: PlaySync, es_client: AsyncElasticsearch, settings: Settings, es_prefix: str
) -> None:
    """Watched through the alias by a second (blocking) client after every bulk chunk."""
    alias = plays_alias(es_prefix)
    old = await alias_targets(es_client, alias)
    observer = Elasticsearch(settings.elasticsearch.hosts)
    seen: list[tuple[int, set[str | None]]] = []

    def during(_: int) -> None:
        targets = observer.indices.get_alias(name=alias).body
        generations = {plays_generation_of(es_prefix, index) for index in targets}
        seen.append((int(observer.count(index=alias)["count"]), generations))

    try:
        report = await reindex_plays(
            synced.db,
            es_client,
            settings.elasticsearch,
            cache=None,
            batch_size=25,
            settle_s=0,
            progress=during,
        )
    finally:
        observer.close()

    new = await alias_targets(es_client, alias)
    generation = await plays_generation(es_client, es_prefix)
    assert len(old) == len(new) == len(MONTHS)
    assert {plays_generation_of(es_prefix, index) for index in old} == {""}
    assert {plays_generation_of(es_prefix, index) for index in new} == {generation} != {""}
    assert set((await plays_indices(es_client, es_prefix)).values()) == {generation}
    assert report.source_count == report.indexed == 300
    assert len(seen) >= 12
    assert all(count == 300 and generations == {""} for count, generations in seen)
    assert await _ids(es_client, alias) == {
        str(p["_id"]) async for p in synced.db.play_events.find()
    }
    index_settings = (await es_client.indices.get_settings(index=new[0]))[new[0]]["settings"]
    assert index_settings["index"].get("refresh_interval") in (None, "1s")

    again = await reindex_plays(
        synced.db, es_client, settings.elasticsearch, cache=None, settle_s=0
    )

    assert again.indexed == 300
    assert not set(await alias_targets(es_client, alias)) & set(new)
    assert int((await es_client.count(index=alias))["count"]) == 300


async def test_the_sync_writes_new_months_into_the_live_generation_after_a_swap(
    synced: PlaySync, es_client: AsyncElasticsearch, settings: Settings, es_prefix: str
) -> None:
    await reindex_plays(synced.db, es_client, settings.elasticsearch, cache=None, settle_s=0)
    generation = await plays_generation(es_client, es_prefix)
    play = {
        "_id": ObjectId(),
        "listener_id": ObjectId(),
        "song_id": ObjectId(),
        "played_at": datetime(2024, 7, 1, tzinfo=UTC),
        "country": "FR",
        "ms_played": 1000,
    }
    await synced.db.play_events.insert_one(play)

    assert await synced.catch_up() == 1
    await es_client.indices.refresh(index=plays_alias(es_prefix))

    found = await es_client.search(
        index=plays_alias(es_prefix), query={"ids": {"values": [str(play["_id"])]}}
    )
    assert [plays_generation_of(es_prefix, h["_index"]) for h in found["hits"]["hits"]] == [
        generation
    ]
    assert int((await es_client.count(index=plays_alias(es_prefix)))["count"]) == 301


async def test_a_failed_verify_leaves_the_old_generation_serving(
    synced: PlaySync, es_client: AsyncElasticsearch, settings: Settings, es_prefix: str
) -> None:
    """Another writer slips a document into the half-built generation: the count is off."""
    alias = plays_alias(es_prefix)
    old = await alias_targets(es_client, alias)
    observer = Elasticsearch(settings.elasticsearch.hosts)

    def intrude(_: int) -> None:
        building = [
            index
            for index in observer.indices.get(index=f"{es_prefix}-plays-v1-g*").body
            if index not in old
        ]
        observer.index(index=building[0], id="intruder", document={"country": "XX"})

    try:
        with pytest.raises(ReindexError, match="expected 300"):
            await reindex_plays(
                synced.db,
                es_client,
                settings.elasticsearch,
                cache=None,
                batch_size=100,
                settle_s=0,
                progress=intrude,
            )
    finally:
        observer.close()

    assert await alias_targets(es_client, alias) == old
    assert set((await plays_indices(es_client, es_prefix)).values()) == {""}
    assert await plays_generation(es_client, es_prefix) == ""
    assert int((await es_client.count(index=alias))["count"]) == 300


async def test_a_sync_running_during_the_rebuild_loses_nothing(
    synced: PlaySync,
    es_client: AsyncElasticsearch,
    settings: Settings,
    es_prefix: str,
    rng: random.Random,
) -> None:
    """Plays keep arriving (and being synced) before, during and after the rebuild."""
    songs = await synced.db.songs.find().to_list(None)
    stop = asyncio.Event()
    follower = asyncio.create_task(synced.follow(stop))

    async def write(batches: int) -> None:
        for _ in range(batches):
            await synced.db.play_events.insert_many(_plays(rng, songs, 20))
            await asyncio.sleep(0.05)

    writer = asyncio.create_task(write(40))
    try:
        await asyncio.sleep(0.3)
        report = await reindex_plays(
            synced.db, es_client, settings.elasticsearch, cache=None, batch_size=50, settle_s=0
        )
        await writer
        total = await synced.db.play_events.count_documents({})
        for _ in range(100):
            await es_client.indices.refresh(index=synced.alias)
            if int((await es_client.count(index=synced.alias))["count"]) >= total:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await follower

    assert report.source_count > 300
    assert total == 300 + 40 * 20
    assert await _ids(es_client, synced.alias) == {
        str(p["_id"]) async for p in synced.db.play_events.find()
    }


async def test_indices_from_before_generations_are_rebuilt_and_dropped(
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    es_prefix: str,
    rng: random.Random,
) -> None:
    """A deployment made before rebuilds existed: its template matched `plays-v1-*` and
    attached the alias. The rebuild narrows it, builds beside it, and takes over."""
    alias = plays_alias(es_prefix)
    await es_client.indices.put_index_template(
        name=f"{es_prefix}-plays",
        index_patterns=[f"{es_prefix}-plays-v1-*"],
        template={"mappings": PLAY_MAPPINGS, "aliases": {alias: {}}},
        priority=100,
    )
    plays = _plays(rng, [song_row(rng)], 40)
    await mongo_db.play_events.insert_many(plays)
    for play in plays:
        month = play["played_at"]
        await es_client.index(
            index=plays_index(es_prefix, month.year, month.month),
            id=str(play["_id"]),
            document=play_document(play, None),
        )
    legacy = await alias_targets(es_client, alias)

    report = await reindex_plays(
        mongo_db, es_client, settings.elasticsearch, cache=None, settle_s=0
    )
    await ensure_search_indices(es_client, settings.elasticsearch)  # a later start-up

    generation = await plays_generation(es_client, es_prefix)
    assert generation != ""
    assert report.indexed == 40
    assert len(legacy) == len(MONTHS)
    assert not [index for index in legacy if await es_client.indices.exists(index=index)]
    assert {plays_generation_of(es_prefix, i) for i in await alias_targets(es_client, alias)} == {
        generation
    }
    assert await _ids(es_client, alias) == {str(p["_id"]) for p in plays}


async def test_a_rebuild_leaves_out_the_plays_of_an_erased_listener(
    synced: PlaySync, es_client: AsyncElasticsearch, settings: Settings, es_prefix: str
) -> None:
    """The erasure is logged before the listener's plays leave MongoDB: a rebuild in
    between must neither copy those plays nor count them as missing."""
    first = await synced.db.play_events.find_one({})
    assert first is not None
    erased = first["listener_id"]
    await synced.db[ERASURES].insert_one({"listener_id": erased, "erased_at": datetime.now(UTC)})

    report = await reindex_plays(
        synced.db, es_client, settings.elasticsearch, cache=None, settle_s=0
    )

    assert report.indexed == 299
    alias = plays_alias(es_prefix)
    hits = await es_client.count(index=alias, query={"term": {"listener_id": str(erased)}})
    assert hits["count"] == 0
    assert int((await es_client.count(index=alias))["count"]) == 299
