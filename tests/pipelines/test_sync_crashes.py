"""The sync worker killed with SIGKILL at random points loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys

import httpx
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from pipelines.check import check_songs
from pipelines.sync import SongSync, SyncOptions
from tests.fixtures.catalog import Factory

CHANGES = 600
KILLS = 10


def _worker_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "MONGODB_URL": settings.mongodb.url,
        "MONGODB_DB": settings.mongodb.db,
        "ELASTICSEARCH_URL": settings.elasticsearch.url,
        "ELASTICSEARCH_INDEX_PREFIX": settings.elasticsearch.index_prefix,
        "REDIS_URL": settings.redis.url,
        "REDIS_KEY_PREFIX": settings.redis.key_prefix,
        "LOG_LEVEL": "WARNING",
    }


async def _mixed_changes(client: httpx.AsyncClient, make_song: Factory, rng: random.Random) -> None:
    """60% inserts, 30% updates, 10% deletes, through the API as clients make them."""
    live: list[str] = []
    for _ in range(CHANGES):
        roll = rng.random()
        if roll < 0.6 or not live:
            live.append((await make_song())["id"])
        elif roll < 0.9:
            song_id = rng.choice(live)
            await client.patch(f"/v1/songs/{song_id}", json={"duration_s": rng.randint(60, 600)})
        else:
            song_id = live.pop(rng.randrange(len(live)))
            await client.delete(f"/v1/songs/{song_id}")


async def test_sigkill_at_random_points_leaves_nothing_lost_unexpected_or_stale(
    search_client: httpx.AsyncClient,
    search_settings: Settings,
    make_song: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    rng: random.Random,
) -> None:
    changes = asyncio.create_task(_mixed_changes(search_client, make_song, rng))
    kills = 0
    while kills < KILLS or not changes.done():
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "beatstream",
            "sync",
            "--follow",
            "--mode",
            "polling",
            "--batch-size",
            "20",
            env=_worker_env(search_settings),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(rng.uniform(1.0, 2.5))
        assert worker.returncode is None, await worker.stderr.read() if worker.stderr else ""
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), timeout=10)
        kills += 1
    await changes
    await asyncio.sleep(0.2)

    final = SongSync(
        mongo_db, es_client, search_settings.elasticsearch, options=SyncOptions(settle_s=0.0)
    )
    await final.catch_up()
    await es_client.indices.refresh(index=final.alias)
    report = await check_songs(mongo_db, es_client, search_settings.elasticsearch)

    assert kills >= KILLS
    assert (report.lost, report.unexpected, report.stale) == ([], [], [])
    assert report.in_mongo == await mongo_db.songs.count_documents({}) > 0
