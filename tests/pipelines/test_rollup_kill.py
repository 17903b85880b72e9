"""The roll-up killed with SIGKILL in its own process counts every play exactly once.

Handshakes, not sleeps: a worker (`tests/pipelines/rollup_worker.py`) tears a chunk
(half or all of its counter writes landed, the checkpoint not moved) and says so; the
test sees the torn state in MongoDB, then kills it. Last, the real `beatstream sync`
is killed as soon as the roll-up's checkpoint shows progress, and run again to the end.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from bench.support.processes import process_env, sigkill
from pipelines import checkpoints, counters
from pipelines.rollup import SOURCE
from tests.fixtures.catalog import Factory
from tests.pipelines.test_play_stream import counted, insert_plays

ROOT = Path(__file__).resolve().parents[2]
WORKER = "tests.pipelines.rollup_worker"
CHUNK = 10
PLAYS = 100 * CHUNK
# (what the torn chunk wrote, at which of the worker's chunks it tears)
TEARS = (("half", 2), ("all", 3), ("half", 1), ("all", 1))
HANDSHAKE_S = 120  # a bound on a hung worker, not a measurement


async def _run(
    env: dict[str, str], *args: str, stdout: int | None = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, cwd=ROOT, stdout=stdout, stderr=asyncio.subprocess.PIPE
    )


async def test_a_rollup_sigkilled_mid_chunk_and_mid_sync_counts_every_play_once(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    songs = [(await make_song())["id"] for _ in range(6)]
    expected = await insert_plays(mongo_db, songs, (await make_listener())["id"], PLAYS)
    env = process_env(search_settings)

    previous = ""
    for written, at in TEARS:
        before = await checkpoints.load(mongo_db, SOURCE)
        worker = await _run(env, "-m", WORKER, str(CHUNK), str(at), written)
        assert worker.stdout is not None
        said = await asyncio.wait_for(worker.stdout.readline(), HANDSHAKE_S)
        assert said == b"torn\n", (await worker.stderr.read()).decode() if worker.stderr else ""
        saved = await checkpoints.load(mongo_db, SOURCE)
        # `at` counts counter writes: a chunk torn with all of its writes landed is
        # replayed with nothing left to write, so it is passed without one.
        replayed = 1 if previous == "all" else 0
        assert saved.applied == before.applied + (at - 1 + replayed) * CHUNK
        past = {counters.MARK: {"$gt": saved.changed_id}}
        assert await mongo_db.songs.count_documents(past) > 0  # counted, not checkpointed
        await sigkill(worker)
        previous = written

    # The real thing: `beatstream sync` (plays, roll-up, songs), killed mid roll-up.
    args = ("-m", "beatstream", "sync", "--rollup-batch-size", str(CHUNK))
    cli = await _run(env, *args, stdout=asyncio.subprocess.DEVNULL)
    torn = (await checkpoints.load(mongo_db, SOURCE)).applied

    async def progressed() -> None:
        while (await checkpoints.load(mongo_db, SOURCE)).applied == torn:  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # MongoDB is polled: no event crosses the process

    await asyncio.wait_for(progressed(), HANDSHAKE_S)
    await sigkill(cli)
    assert (await checkpoints.load(mongo_db, SOURCE)).applied < PLAYS  # killed mid-way

    final = await _run(env, *args, stdout=asyncio.subprocess.DEVNULL)
    _, stderr = await final.communicate()
    assert final.returncode == 0, stderr.decode()[-2000:]
    assert await counted(mongo_db) == expected
    assert (await counters.check(mongo_db)).clean
