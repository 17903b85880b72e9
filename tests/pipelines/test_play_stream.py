"""A backlog of plays is read through one cursor per pass, not one query per batch: the
stand-in scans `play_events` for every query, so a query per batch made a backlog
O(N^2) (the roll-up fell to 0.29x the ingest rate at 100k plays)."""

from __future__ import annotations

import asyncio
import struct
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument, create_mongo_client
from pipelines import checkpoints, counters
from pipelines.play_stream import PlayFollower
from pipelines.rollup import PlayRollup
from pipelines.sync import SyncOptions
from pipelines.sync_plays import PlaySync
from tests.fixtures.catalog import Factory

COUNTRIES = ("IT", "DE", "FR")
CHUNK = 10


class FindLog(monitoring.CommandListener):
    """How many `find` and `getMore` commands reached `play_events`."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        if event.command_name == "getMore":
            target = event.command.get("collection")
        if target == "play_events":
            self.sent[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


def past_ids(n: int, start: datetime) -> list[ObjectId]:
    """`n` distinct, ascending play ids from `start` on (outside any settle window)."""
    seconds = int(start.timestamp())
    return [ObjectId(struct.pack(">IQ", seconds + i // 1000, i)) for i in range(n)]


async def insert_plays(
    db: AsyncDatabase[MongoDocument], songs: list[str], listener: str, n: int, day: int = 2
) -> dict[str, Counter[str]]:
    """`n` plays straight into `play_events` (as the seed loader writes them), spread
    over `songs`, ids from November `day` on; the per-song, per-country counts they
    must add up to."""
    start = datetime(2026, 11, day, tzinfo=UTC)
    plays = [
        {
            "_id": play_id,
            "listener_id": ObjectId(listener),
            "song_id": ObjectId(songs[i % len(songs)]),
            "country": COUNTRIES[(i + i // 7) % len(COUNTRIES)],
            "ms_played": 1000,
            "played_at": start + timedelta(minutes=i),
        }
        for i, play_id in enumerate(past_ids(n, start))
    ]
    await db.play_events.insert_many(plays)
    expected: dict[str, Counter[str]] = {}
    for play in plays:
        expected.setdefault(str(play["song_id"]), Counter())[play["country"]] += 1
    return expected


async def counted(db: AsyncDatabase[MongoDocument]) -> dict[str, Counter[str]]:
    return {
        str(s["_id"]): Counter(s.get(counters.COUNTS) or {})
        async for s in db.songs.find({counters.COUNTS: {"$exists": True}})
    }


@pytest.mark.parametrize("follower", [PlayRollup, PlaySync])
async def test_a_backlog_is_one_query_per_pass_checkpointed_chunk_by_chunk(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    follower: type[PlayFollower],
) -> None:
    songs = [(await make_song())["id"] for _ in range(4)]
    expected = await insert_plays(mongo_db, songs, (await make_listener())["id"], 13 * CHUNK + 3)
    log = FindLog()
    client = create_mongo_client(search_settings.mongodb, event_listeners=[log])
    try:
        db = client[search_settings.mongodb.db]
        options = SyncOptions(batch_size=CHUNK, settle_s=0.0)
        worker = follower(db, es_client, search_settings.elasticsearch, options=options)
        checkpoint = await checkpoints.load(db, worker.source)
        chunks = [n async for n in worker.chunks(checkpoint)]
        saved = await checkpoints.load(db, worker.source)
        assert await worker.catch_up() == 0
    finally:
        await client.close()

    # Before: one `find` per batch (14 for 133 plays), each a scan of the collection.
    assert log.sent["find"] == 2  # the pass, then the pass that finds nothing
    assert chunks == [CHUNK] * 13 + [3]
    assert saved.applied == 13 * CHUNK + 3
    newest = await mongo_db.play_events.find_one(sort=[("_id", -1)])
    assert newest is not None
    assert saved.changed_id == newest["_id"]
    if follower is PlayRollup:
        assert await counted(mongo_db) == expected
        assert (await counters.check(mongo_db)).clean
        # The guard `{_id, counted_through}` has an index of exactly its fields: the
        # stand-in scanned every song for each guarded update without it (~1 ms each).
        guard = (await mongo_db.songs.index_information())[counters.GUARD_INDEX]
        assert guard["key"] == [("_id", 1), (counters.MARK, 1)]
        assert guard["unique"]


async def test_a_follower_stopped_mid_pass_saves_where_it_stopped_and_resumes(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    """`--follow` ends its pass after the chunk during which it was told to stop."""
    songs = [(await make_song())["id"] for _ in range(3)]
    expected = await insert_plays(mongo_db, songs, (await make_listener())["id"], 5 * CHUNK)
    options = SyncOptions(batch_size=CHUNK, settle_s=0.0)
    stop = asyncio.Event()

    class Stopping(PlayRollup):
        async def handle_plays(self, plays: list[Any]) -> None:
            await super().handle_plays(plays)
            stop.set()

    worker = Stopping(mongo_db, es_client, search_settings.elasticsearch, options=options)
    checkpoint = await checkpoints.load(mongo_db, worker.source)
    assert await worker.poll_once(checkpoint, stop) == CHUNK
    assert (await checkpoints.load(mongo_db, worker.source)).applied == CHUNK
    rollup = PlayRollup(mongo_db, es_client, search_settings.elasticsearch, options=options)
    assert await rollup.catch_up() == 4 * CHUNK
    assert await counted(mongo_db) == expected


async def test_follow_catches_up_a_backlog_then_counts_what_arrives(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    songs = [(await make_song())["id"] for _ in range(3)]
    listener = (await make_listener())["id"]
    backlog = await insert_plays(mongo_db, songs, listener, 20 * CHUNK)
    options = SyncOptions(batch_size=CHUNK, settle_s=0.0, idle_wait_s=0.05)
    rollup = PlayRollup(mongo_db, es_client, search_settings.elasticsearch, options=options)
    stop = asyncio.Event()

    async def applied(n: int) -> None:
        while (await checkpoints.load(mongo_db, rollup.source)).applied < n:  # noqa: ASYNC110
            await asyncio.sleep(0.02)  # the follower's progress is in MongoDB

    follower = asyncio.create_task(rollup.follow(stop))
    try:
        await asyncio.wait_for(applied(20 * CHUNK), 60)
        assert await counted(mongo_db) == backlog
        later = await insert_plays(mongo_db, songs, listener, 3 * CHUNK, day=9)
        await asyncio.wait_for(applied(23 * CHUNK), 60)
    finally:
        stop.set()
        await follower
    assert await counted(mongo_db) == {s: backlog[s] + later[s] for s in backlog}


async def test_markers_moved_by_another_writer_make_the_guard_miss_and_are_reread(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    """A roll-up remembers the markers it wrote instead of re-reading them per chunk;
    another roll-up moving them meanwhile must not make it count anything twice."""
    songs = [(await make_song())["id"] for _ in range(3)]
    listener = (await make_listener())["id"]
    options = SyncOptions(batch_size=CHUNK, settle_s=0.0)
    second = PlayRollup(mongo_db, es_client, search_settings.elasticsearch, options=options)
    writes: list[tuple[int, int]] = []

    class Counting(PlayRollup):
        async def write(self, updates: list[Any]) -> int:
            matched = await super().write(updates)
            writes.append((len(updates), matched))
            return matched

    first = Counting(mongo_db, es_client, search_settings.elasticsearch, options=options)
    expected = await insert_plays(mongo_db, songs, listener, 2 * CHUNK)
    await first.catch_up()  # remembers its markers
    more = await insert_plays(mongo_db, songs, listener, CHUNK, day=9)
    await second.catch_up()  # moves them behind the first one's back
    newest = await insert_plays(mongo_db, songs, listener, CHUNK, day=20)
    writes.clear()
    await first.catch_up()

    assert writes[0][1] < writes[0][0]  # the remembered markers were stale: missed
    assert await counted(mongo_db) == {s: expected[s] + more[s] + newest[s] for s in expected}
    assert (await counters.check(mongo_db)).clean
