"""Kept-song hit ratio while the play roll-up counts steady plays: per-song
announcements against the `CATALOG` bump they replaced, and no roll-up at all.

In process, no HTTP: 16 tasks read random songs of a 300-song catalogue the way the
fast path does (`kept_song`, else `read_song` from MongoDB), for a few seconds per mode,
while plays of one random song are recorded every 0.5 s and the roll-up counts them
(`PlayRollup.catch_up`, which sees a play once its second has passed). "bump" mode is
the roll-up as it was: every chunk also bumps `CATALOG`. The hit ratio is what to read;
reads/s swing with whatever else the shared machine runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import UpdateOne

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.reads import HotReads
from beatstream.cache.store import ResponseCache
from beatstream.catalog import service as catalog
from beatstream.catalog.schemas import ArtistCreate, SongCreate
from beatstream.settings import Settings
from beatstream.stores.clients import create_es_client, create_mongo_client, create_redis_client
from bench import report
from bench.support.stores import beanie_on_scratch_db, stack_settings
from pipelines.invalidation import invalidate
from pipelines.rollup import PlayRollup
from pipelines.sync import SyncOptions
from seed.builders import artist_payload, song_payload

SONGS = 300
READERS = 16
SECONDS = 6.0
PLAY_EVERY_S = 0.5


class BumpingRollup(PlayRollup):
    """The roll-up before per-song announcements: each chunk bumps `CATALOG` too."""

    async def write(self, updates: list[UpdateOne]) -> int:
        matched = await super().write(updates)
        if matched:
            await invalidate(self.cache, CacheNamespace.CATALOG)
        return matched


async def _plays(rollup: PlayRollup | None, ids: list[Any]) -> int:
    """Record a play of a random song every PLAY_EVERY_S and count what has settled;
    the number of chunks that moved counters."""
    if rollup is None:
        await asyncio.sleep(SECONDS)
        return 0
    rng, chunks, deadline = random.Random(7), 0, time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        await rollup.db.play_events.insert_one(
            {
                "_id": ObjectId(),
                "listener_id": ObjectId(),
                "song_id": rng.choice(ids),
                "country": "IT",
                "ms_played": 1000,
                "played_at": datetime.now(UTC),
            }
        )
        chunks += 1 if await rollup.catch_up() else 0
        await asyncio.sleep(PLAY_EVERY_S)
    return chunks


async def _reader(ids: list[PydanticObjectId], reads: HotReads[Any], seed: int) -> list[int]:
    rng, hits, misses = random.Random(seed), 0, 0
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        song_id = rng.choice(ids)
        if await catalog.kept_song(song_id, reads) is not None:
            hits += 1
        else:
            await catalog.read_song(song_id, reads)
            misses += 1
    return [hits, misses]


@contextlib.asynccontextmanager
async def _rollups(settings: Settings, cache: ResponseCache) -> AsyncIterator[dict[str, Any]]:
    mongo, es = create_mongo_client(settings.mongodb), create_es_client(settings.elasticsearch)
    db, options = mongo[settings.mongodb.db], SyncOptions(settle_s=0.0)
    try:
        yield {
            "no roll-up": None,
            "roll-up, per-song announcements": PlayRollup(
                db, es, settings.elasticsearch, options=options, cache=cache
            ),
            "roll-up bumping CATALOG (before)": BumpingRollup(
                db, es, settings.elasticsearch, options=options, cache=cache
            ),
        }
    finally:
        await mongo.close()
        await es.close()


async def _measure() -> list[dict[str, Any]]:
    settings = stack_settings()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    settings = settings.model_copy(
        update={"redis": settings.redis.model_copy(update={"key_prefix": prefix})}
    )
    redis = create_redis_client(settings.redis)
    cache = ResponseCache(redis, prefix)
    rng, rows = random.Random(42), []
    try:
        async with beanie_on_scratch_db(settings), _rollups(settings, cache) as modes:
            artist = await catalog.create_artist(ArtistCreate(**artist_payload(rng)))
            songs = [
                await catalog.create_song(SongCreate(**song_payload(rng, str(artist.id))))
                for _ in range(SONGS)
            ]
            ids = [song.id for song in songs if song.id is not None]
            for mode, rollup in modes.items():
                reads: HotReads[Any] = HotReads(cache, 20_000, 60.0)
                for song_id in ids:  # every song kept before the clock starts
                    await catalog.read_song(song_id, reads)
                counted = asyncio.create_task(_plays(rollup, ids))
                tallies = await asyncio.gather(
                    *(_reader(ids, reads, seed) for seed in range(READERS))
                )
                chunks = await counted
                hits = sum(t[0] for t in tallies)
                misses = sum(t[1] for t in tallies)
                rows.append(
                    {
                        "mode": mode,
                        "songs": SONGS,
                        "roll-up chunks": chunks,
                        "reads": hits + misses,
                        "reads/s": round((hits + misses) / SECONDS),
                        "MongoDB loads": misses,
                        "kept-song hit ratio": round(hits / (hits + misses), 4),
                    }
                )
                print(rows[-1])
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    return rows


def run() -> Path:
    rows = asyncio.run(_measure())
    return report.write("hot_reads_rollup", {"rows": rows, "seconds_per_mode": SECONDS}, rows)


if __name__ == "__main__":
    run()
