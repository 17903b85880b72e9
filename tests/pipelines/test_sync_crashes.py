"""The sync worker killed with SIGKILL at random points loses and duplicates nothing.

The same machinery runs at 100k changes in `bench/sync_kill.py`.
"""

from __future__ import annotations

import asyncio
import random

import httpx
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from bench.support.changes import mixed_changes
from bench.support.processes import process_env, sigkill, start_sync_worker
from pipelines.check import check_songs
from pipelines.sync import SongSync, SyncOptions
from tests.fixtures.catalog import Factory

CHANGES = 600
KILLS = 10


async def test_sigkill_at_random_points_leaves_nothing_lost_unexpected_or_stale(
    search_client: httpx.AsyncClient,
    search_settings: Settings,
    make_song: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    rng: random.Random,
) -> None:
    async def create() -> str:
        return str((await make_song())["id"])

    async def update(song_id: str) -> None:
        await search_client.patch(f"/v1/songs/{song_id}", json={"duration_s": rng.randint(60, 600)})

    async def delete(song_id: str) -> None:
        await search_client.delete(f"/v1/songs/{song_id}")

    changes = asyncio.create_task(mixed_changes(CHANGES, rng, create, update, delete))
    env = process_env(search_settings)
    kills = 0
    while kills < KILLS or not changes.done():
        worker = await start_sync_worker(env, batch_size=20)
        await asyncio.sleep(rng.uniform(1.0, 2.5))
        await sigkill(worker)
        kills += 1
    made = await changes
    await asyncio.sleep(0.2)

    final = SongSync(
        mongo_db, es_client, search_settings.elasticsearch, options=SyncOptions(settle_s=0.0)
    )
    await final.catch_up()
    await es_client.indices.refresh(index=final.alias)
    report = await check_songs(mongo_db, es_client, search_settings.elasticsearch)

    assert kills >= KILLS
    assert sum(made.values()) == CHANGES
    assert (report.lost, report.unexpected, report.stale) == ([], [], [])
    assert report.in_mongo == await mongo_db.songs.count_documents({}) > 0
