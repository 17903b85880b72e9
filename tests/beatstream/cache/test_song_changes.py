"""Counting plays drops only the kept answers showing the counted songs
(beatstream.cache.changes): the roll-up announces songs instead of bumping `CATALOG`."""

from __future__ import annotations

import asyncio
import os
import random
import struct
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.cache.changes import SongChanges
from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.reads import HotReads
from beatstream.cache.store import CHANGES_KEPT, CHANGES_MAX_IDS, ResponseCache
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument, RedisClient
from bench.support.processes import process_env
from pipelines import counters
from pipelines.rollup import PlayRollup
from pipelines.sync import SyncOptions
from seed.builders import listener_payload
from tests.beatstream.cache.test_reads import CommandLog, _public_playlist, _song, two_apps

ROOT = Path(__file__).resolve().parents[3]
FAST = SyncOptions(batch_size=50, settle_s=0.0)
SONG = (CacheNamespace.CATALOG,)


async def _play(http: httpx.AsyncClient, rng: random.Random, song_id: str, n: int) -> None:
    listener = (await http.post("/v1/listeners", json=listener_payload(rng))).json()
    events = [
        {
            "listener_id": listener["id"],
            "song_id": song_id,
            "country": "IT",
            "ms_played": 1000,
            "played_at": "2026-11-02T10:00:00Z",
        }
        for _ in range(n)
    ]
    response = await http.post("/v1/plays/batch", json={"events": events})
    assert response.status_code == 201, response.text


async def test_a_rollup_chunk_for_one_song_keeps_every_other_answer_in_memory(
    settings: Settings,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    redis_client: RedisClient,
    redis_prefix: str,
    rng: random.Random,
) -> None:
    """Song A's plays are counted: A and the playlist holding it are read again (new
    version and ETag); song B and B's playlist are still served from memory."""
    log = CommandLog()
    cache = ResponseCache(redis_client, settings.redis.key_prefix)
    rollup = PlayRollup(mongo_db, es_client, settings.elasticsearch, options=FAST, cache=cache)
    async with two_apps(settings, log) as (reader, anonymous, writer):
        a, b = await _song(reader, rng), await _song(reader, rng)
        with_a = await _public_playlist(reader, rng, [a["id"]])
        with_b = await _public_playlist(reader, rng, [b["id"]])
        urls = {
            "a": f"/v1/songs/{a['id']}",
            "b": f"/v1/songs/{b['id']}",
            "with_a": f"/v1/playlists/{with_a['id']}",
            "with_b": f"/v1/playlists/{with_b['id']}",
        }
        before = {name: await anonymous.get(url) for name, url in urls.items()}  # kept now
        await _play(writer, rng, a["id"], 3)
        assert await rollup.catch_up() == 3

        log.names.clear()
        after = {name: await anonymous.get(url) for name, url in urls.items()}
        loads = {name: log.names.count(name) for name in ("find", "aggregate")}

    assert loads == {"find": 1, "aggregate": 1}  # song A and A's playlist only
    assert after["b"].content == before["b"].content
    assert after["with_b"].content == before["with_b"].content
    assert before["a"].headers["etag"] == '"1"'
    assert after["a"].headers["etag"] == '"2"'
    assert after["a"].json()["version"] == 2
    assert after["with_a"].json()["songs"][0]["song"]["version"] == 2


async def test_a_counter_repair_drops_only_the_repaired_songs(
    settings: Settings,
    mongo_db: AsyncDatabase[MongoDocument],
    redis_client: RedisClient,
    redis_prefix: str,
    rng: random.Random,
) -> None:
    log = CommandLog()
    cache = ResponseCache(redis_client, settings.redis.key_prefix)
    async with two_apps(settings, log) as (reader, anonymous, _writer):
        a, b = await _song(reader, rng), await _song(reader, rng)
        for song in (a, b):
            assert (await anonymous.get(f"/v1/songs/{song['id']}")).status_code == 200
        # A's counters drifted (written behind the roll-up's back): the repair fixes them.
        await mongo_db.songs.update_one(
            {"_id": ObjectId(a["id"])}, {"$set": {counters.COUNTS: {"IT": 9}}}
        )
        assert await counters.repair(mongo_db, await counters.check(mongo_db), cache) == 1

        log.names.clear()
        a_after = await anonymous.get(f"/v1/songs/{a['id']}")
        b_after = await anonymous.get(f"/v1/songs/{b['id']}")

    assert log.names.count("find") == 1
    assert a_after.headers["etag"] == '"2"'
    assert b_after.headers["etag"] == '"1"'


def _settled_id() -> ObjectId:
    """A play id from 5 s ago: past `beatstream sync`'s settle window (1 s) at once."""
    return ObjectId(struct.pack(">I", int(time.time()) - 5) + os.urandom(8))


async def test_beatstream_sync_tells_the_api_which_songs_it_counted(
    settings: Settings,
    mongo_db: AsyncDatabase[MongoDocument],
    es_prefix: str,
    redis_prefix: str,
    rng: random.Random,
) -> None:
    """The real command (one pass: plays, roll-up, songs) announces what it counted:
    the API answers song A's new version at once and still keeps song B."""
    log = CommandLog()
    async with two_apps(settings, log) as (reader, anonymous, _writer):
        a, b = await _song(reader, rng), await _song(reader, rng)
        for song in (a, b):
            assert (await anonymous.get(f"/v1/songs/{song['id']}")).headers["etag"] == '"1"'
        await mongo_db.play_events.insert_many(
            [
                {
                    "_id": _settled_id(),
                    "listener_id": ObjectId(),
                    "song_id": ObjectId(a["id"]),
                    "country": "IT",
                    "ms_played": 1000,
                    "played_at": datetime.now(UTC),
                }
                for _ in range(2)
            ]
        )
        cli = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "beatstream",
            "sync",
            env=process_env(settings),
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await cli.communicate()
        assert cli.returncode == 0, stderr.decode()[-2000:]

        log.names.clear()
        a_after = await anonymous.get(f"/v1/songs/{a['id']}")
        b_after = await anonymous.get(f"/v1/songs/{b['id']}")

    assert a_after.headers["etag"] == '"2"'
    assert b_after.headers["etag"] == '"1"'
    assert log.names.count("find") == 1


async def _hot(cache: ResponseCache) -> HotReads[str]:
    reads: HotReads[str] = HotReads(cache, max_entries=100, max_age_s=600)
    await reads.clock.snapshot()  # the first look: from here on announcements are read
    return reads


async def test_an_answer_read_before_its_song_was_announced_is_never_served(
    redis_client: RedisClient, settings: Settings, redis_prefix: str
) -> None:
    """A read that took its snapshot before the roll-up wrote (so it may hold the old
    song) and keeps its answer after this process saw the announcement."""
    cache = ResponseCache(redis_client, settings.redis.key_prefix)
    reads = await _hot(cache)
    before = await reads.clock.snapshot()
    assert await cache.announce(["a"]) > 0
    now = await reads.clock.snapshot()
    reads.put("a", before, SONG, "old a", songs=["a"])
    reads.put("b", before, SONG, "b", songs=["b"])
    reads.put("list", before, SONG, "a and b", songs=["b", "a"])

    assert reads.get("a", now, SONG) is None
    assert reads.get("list", now, SONG) is None
    assert reads.get("b", now, SONG) == "b"


async def test_a_process_too_far_behind_the_log_forgets_everything(
    redis_client: RedisClient, settings: Settings, redis_prefix: str
) -> None:
    cache = ResponseCache(redis_client, settings.redis.key_prefix)
    reads = await _hot(cache)
    reads.put("b", await reads.clock.snapshot(), SONG, "b", songs=["b"])
    for _ in range(CHANGES_KEPT + 1):
        await cache.announce(["a"])

    assert reads.get("b", await reads.clock.snapshot(), SONG) is None


async def test_a_bump_naming_too_many_songs_forgets_everything(
    redis_client: RedisClient, settings: Settings, redis_prefix: str
) -> None:
    cache = ResponseCache(redis_client, settings.redis.key_prefix)
    reads = await _hot(cache)
    reads.put("b", await reads.clock.snapshot(), SONG, "b", songs=["b"])
    generation = await cache.announce([f"s{i}" for i in range(CHANGES_MAX_IDS + 1)])

    assert await cache.announced(generation - 1, generation) == [f"{generation}:*".encode()]
    assert reads.get("b", await reads.clock.snapshot(), SONG) is None


async def test_the_log_keeps_only_its_last_entries(
    redis_client: RedisClient, settings: Settings, redis_prefix: str
) -> None:
    cache = ResponseCache(redis_client, settings.redis.key_prefix)
    for i in range(CHANGES_KEPT + 5):
        last = await cache.announce([f"s{i}"])
    kept = await cache.announced(0, last)

    assert len(kept) == CHANGES_KEPT
    assert kept[-1] == f"{last}:s{CHANGES_KEPT + 4}".encode()


def _changes_at(through: int) -> SongChanges:
    changes = SongChanges()
    changes.advance(through, None)
    return changes


def test_changes_record_the_last_generation_of_each_song() -> None:
    changes = _changes_at(3)
    assert changes.wants(5) == 3
    changes.advance(5, [b"4:a,b", b"5:b"])

    assert (changes.through, changes.epoch) == (5, 0)
    assert changes.fresh(3, 0, ["c"])
    assert not changes.fresh(3, 0, ["a"])
    assert changes.fresh(4, 0, ["a"])
    assert not changes.fresh(4, 0, ["b", "a"])
    assert changes.fresh(5, 0, ["a", "b"])
    assert not changes.fresh(5, 1, [])  # read in an epoch since forgotten


def test_changes_not_exactly_accounted_for_forget_every_answer() -> None:
    unreadable: list[Any] = [
        [b"4:a"],  # generation 5 missing (trimmed, or never logged)
        [b"4:a", b"5:*"],  # too many songs to name
        None,  # not read: too far behind
    ]
    for entries in unreadable:
        changes = _changes_at(3)
        changes.advance(5, entries)
        assert (changes.through, changes.epoch) == (5, 1)
        assert not changes.fresh(5, 0, [])

    flushed = _changes_at(7)  # Redis lost the generation: it counts from 0 again
    assert flushed.wants(2) is None
    flushed.advance(2, None)
    assert (flushed.through, flushed.epoch) == (2, 1)


def test_a_first_look_or_a_process_too_far_behind_reads_no_log() -> None:
    assert SongChanges().wants(10) is None
    assert _changes_at(3).wants(3 + CHANGES_KEPT) == 3
    assert _changes_at(3).wants(4 + CHANGES_KEPT) is None
