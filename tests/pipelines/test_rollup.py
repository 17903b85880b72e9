"""The play roll-up counts every play exactly once into its song's counters, in MongoDB
and (through the song sync) in the songs index; replays and crashes add nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.cache.store import ResponseCache
from beatstream.search.indices import SONGS
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument, RedisClient
from pipelines import checkpoints, counters
from pipelines.rollup import SOURCE, PlayRollup
from pipelines.sync import SongSync, SyncOptions
from tests.fixtures.catalog import Factory

FAST = SyncOptions(batch_size=7, settle_s=0.0)
COUNTRIES = ("IT", "DE", "IT", "FR", "IT")


class Crash(Exception):
    """Stands for a SIGKILL at the injected point."""


async def _record(
    client: httpx.AsyncClient, listener: str, songs: list[str], per_song: int
) -> list[dict[str, Any]]:
    events = [
        {
            "listener_id": listener,
            "song_id": song,
            "country": COUNTRIES[(i + n) % len(COUNTRIES)],
            "ms_played": 1000,
            "played_at": f"2026-11-{1 + n % 28:02d}T10:00:00Z",
        }
        for i, song in enumerate(songs)
        for n in range(per_song)
    ]
    response = await client.post("/v1/plays/batch", json={"events": events})
    assert response.status_code == 201, response.text
    return events


def _expected(events: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for e in events:
        out.setdefault(e["song_id"], Counter())[e["country"]] += 1
    return {song: dict(c) for song, c in out.items()}


async def _counted(db: AsyncDatabase[MongoDocument], songs: list[str]) -> dict[str, dict[str, int]]:
    rows = db.songs.find({"_id": {"$in": [ObjectId(s) for s in songs]}})
    return {str(r["_id"]): dict(r.get(counters.COUNTS) or {}) async for r in rows}


def _rollup(db: AsyncDatabase[MongoDocument], es: AsyncElasticsearch, s: Settings) -> PlayRollup:
    return PlayRollup(db, es, s.elasticsearch, options=FAST)


async def test_plays_move_counters_exactly_once_in_mongodb_and_elasticsearch(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    listener = await make_listener()
    songs = [await make_song(views_per_country={"IT": 5}) for _ in range(3)]
    ids = [s["id"] for s in songs]
    events = await _record(search_client, listener["id"], ids, per_song=6)
    rollup = _rollup(mongo_db, es_client, search_settings)

    assert await rollup.catch_up() == len(events)
    assert await _counted(mongo_db, ids) == _expected(events)
    # A replay from scratch (checkpoint lost) and a second roll-up add nothing.
    await mongo_db[checkpoints.COLLECTION].delete_one({"_id": SOURCE})
    assert await _rollup(mongo_db, es_client, search_settings).catch_up() == len(events)
    assert await _counted(mongo_db, ids) == _expected(events)
    assert (await counters.check(mongo_db)).clean

    # The song sync carries them: seeded views plus counted plays.
    await SongSync(mongo_db, es_client, search_settings.elasticsearch, options=FAST).catch_up()
    alias = SONGS.alias(search_settings.elasticsearch.index_prefix)
    await es_client.indices.refresh(index=alias)
    for song in ids:
        doc = (await es_client.get(index=alias, id=song))["_source"]
        want = Counter(_expected(events)[song]) + Counter({"IT": 5})
        assert doc["views_per_country"] == dict(want)
        assert doc["total_views"] == sum(want.values())
    # The catalogue still answers the song (extra fields do not break its model).
    assert (await search_client.get(f"/v1/songs/{ids[0]}")).status_code == 200


@pytest.mark.parametrize("written", ["half", "all"])
async def test_a_rollup_killed_mid_batch_resumes_without_double_counting(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    written: str,
) -> None:
    """Crash after part (or all) of a batch's counter writes, before the checkpoint."""
    listener = await make_listener()
    ids = [(await make_song())["id"] for _ in range(4)]
    events = await _record(search_client, listener["id"], ids, per_song=5)
    crashes = 0

    class Crashing(PlayRollup):
        async def write(self, updates: list[UpdateOne]) -> int:
            nonlocal crashes
            if crashes < 3:
                crashes += 1
                cut = len(updates) // 2 if written == "half" else len(updates)
                await super().write(updates[:cut])
                raise Crash
            return await super().write(updates)

    crashing = Crashing(mongo_db, es_client, search_settings.elasticsearch, options=FAST)
    for _ in range(3):
        with pytest.raises(Crash):
            await crashing.catch_up()  # restarts from the saved checkpoint each time
    assert await _rollup(mongo_db, es_client, search_settings).catch_up() > 0
    assert await _counted(mongo_db, ids) == _expected(events)


async def test_check_reports_counter_drift_and_repair_recomputes_it(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    listener = await make_listener()
    ids = [(await make_song())["id"] for _ in range(2)]
    events = await _record(search_client, listener["id"], ids, per_song=4)
    await _rollup(mongo_db, es_client, search_settings).catch_up()
    await mongo_db.songs.update_one(
        {"_id": ObjectId(ids[0])}, {"$inc": {f"{counters.COUNTS}.IT": 3}}
    )

    report = await counters.check(mongo_db)
    assert [str(d.song_id) for d in report.drift] == [ids[0]]
    assert report.plays == len(events)
    assert await counters.repair(mongo_db, report, None) == 1
    assert (await counters.check(mongo_db)).clean
    assert await _counted(mongo_db, ids) == _expected(events)


async def test_an_erased_listeners_plays_leave_the_counters(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    kept, erased = await make_listener(), await make_listener()
    ids = [(await make_song())["id"] for _ in range(2)]
    stays = await _record(search_client, kept["id"], ids, per_song=3)
    await _record(search_client, erased["id"], ids, per_song=2)
    rollup = _rollup(mongo_db, es_client, search_settings)
    await rollup.catch_up()

    assert (await search_client.delete(f"/v1/listeners/{erased['id']}")).status_code == 204
    await rollup.catch_up()

    assert await _counted(mongo_db, ids) == _expected(stays)
    assert (await counters.check(mongo_db)).clean


async def test_plays_below_the_checkpoint_missing_from_the_counters_are_drift(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    """As after `seed --reset` reloads songs: no marker, yet their plays are due."""
    listener = await make_listener()
    ids = [(await make_song())["id"] for _ in range(2)]
    events = await _record(search_client, listener["id"], ids, per_song=3)
    await _rollup(mongo_db, es_client, search_settings).catch_up()
    await mongo_db.songs.update_many({}, {"$unset": {counters.COUNTS: "", counters.MARK: ""}})

    report = await counters.check(mongo_db)
    assert sorted(str(d.song_id) for d in report.drift) == sorted(ids)
    await counters.repair(mongo_db, report, None)
    assert await _counted(mongo_db, ids) == _expected(events)
    assert (await counters.check(mongo_db)).clean


async def test_counted_plays_reach_the_next_read_of_a_song_the_api_kept(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    redis_client: RedisClient,
    redis_prefix: str,
) -> None:
    """The roll-up moves a song's version: it announces the song, so the API (which
    keeps song answers in memory, beatstream.cache.reads) answers the new version at once
    (tests/beatstream/cache/test_song_changes.py: and keeps the other songs)."""
    song = await make_song(views_per_country={"IT": 5})
    url = f"/v1/songs/{song['id']}"
    assert (await search_client.get(url)).headers["etag"] == '"1"'  # kept now
    listener = await make_listener()
    await _record(search_client, listener["id"], [song["id"]], per_song=2)
    cache = ResponseCache(redis_client, search_settings.redis.key_prefix)

    rollup = PlayRollup(
        mongo_db, es_client, search_settings.elasticsearch, options=FAST, cache=cache
    )
    await rollup.catch_up()
    after = await search_client.get(url)

    assert after.headers["etag"] == '"2"'
    assert after.json()["version"] == 2


async def test_counts_shown_by_cached_answers_follow_the_rollup_through_the_song_sync(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    redis_client: RedisClient,
    redis_prefix: str,
) -> None:
    """A guard, not a regression test: the roll-up no longer bumps `CATALOG`, and the
    answers that show counts (top-songs, kept in Redis under `songs`) are still
    refreshed, by the song sync carrying the counters (docs/catalog.md, "Per-song
    changes"). `no-cache` skips the 1 s microcache, which is not what this checks."""
    song = await make_song(views_per_country={"IT": 5})
    cache = ResponseCache(redis_client, search_settings.redis.key_prefix)
    sync = SongSync(mongo_db, es_client, search_settings.elasticsearch, options=FAST, cache=cache)
    rollup = PlayRollup(
        mongo_db, es_client, search_settings.elasticsearch, options=FAST, cache=cache
    )
    alias = SONGS.alias(search_settings.elasticsearch.index_prefix)

    async def top() -> httpx.Response:
        return await search_client.get(
            "/v1/analytics/top-songs",
            params={"country": "IT"},
            headers={"Cache-Control": "no-cache"},
        )

    await sync.catch_up()
    await es_client.indices.refresh(index=alias)
    before = [await top(), await top()]
    events = await _record(search_client, (await make_listener())["id"], [song["id"]], 4)
    await rollup.catch_up()
    await sync.catch_up()
    await es_client.indices.refresh(index=alias)
    after = await top()

    assert [r.headers["x-cache"] for r in before] == ["miss", "hit"]
    assert before[1].json()["items"][0]["views"] == 5
    assert after.headers["x-cache"] == "miss"
    assert after.json()["items"][0]["views"] == 5 + _expected(events)[song["id"]]["IT"]
