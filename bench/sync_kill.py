"""The sync worker SIGKILLed at random points during N mixed changes: is anything lost?

`python -m bench.sync_kill [--changes N] [--kills K] [--batch-size B]` (defaults: the
issue's 100k changes, 12 kills, the shipped batch of 500). A writer makes the changes
through the catalogue service (the API's write path minus HTTP: tombstones on delete,
versions bumped on update): 60% inserts, 30% updates, 10% deletes of random live
songs. Meanwhile `beatstream sync --follow --mode polling` runs in a child process
and is SIGKILLed when the writer passes each of K random points (each worker lives at
least `MIN_ALIVE_S`, so it is killed mid-work, not mid-import), then restarted.

After the last change, the last worker is left to catch up (songs lag 0) and stopped
with SIGTERM; an in-process `catch_up` then applies whatever remains (reported as
`residual`, expected 0), and `sync --check`'s comparison reports lost, unexpected and
stale ids. Everything runs on a scratch database and index prefix, dropped after.
`--mongodb-url` points it at a MongoDB-wire server of its own: 100k songs are a
heavy load for a stand-in shared with other work.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from beanie import PydanticObjectId
from pymongo.errors import PyMongoError

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.reads import HotReads
from beatstream.cache.store import ResponseCache
from beatstream.catalog import service
from beatstream.catalog.documents import Song
from beatstream.catalog.schemas import ArtistCreate, SongCreate, SongUpdate
from beatstream.errors import NotFoundError
from beatstream.search.indices import SONGS, drop_prefix, ensure_search_indices
from beatstream.stores.clients import create_es_client, create_mongo_client, create_redis_client
from bench import report
from bench.support.changes import mixed_changes
from bench.support.processes import process_env, sigkill, start_sync_worker
from bench.support.stores import beanie_on_scratch_db, stack_settings
from pipelines.check import check_songs
from pipelines.state import sync_status
from pipelines.sync import SongSync, SyncOptions
from seed.builders import artist_payload, song_payload

CHANGES, KILLS, BATCH = 100_000, 12, 500
ARTISTS = 200
MIN_ALIVE_S = 1.5
CATCH_UP_TIMEOUT_S = 900
RETRIES = 30
T = TypeVar("T")


class Supervisor:
    """Keeps one sync worker running, as systemd would: a worker that exits by itself
    (the shared stand-in sometimes answers its start-up ping too late) is restarted
    and counted, and each worker lives `MIN_ALIVE_S` before it is killed."""

    def __init__(self, env: dict[str, str], batch_size: int) -> None:
        self.env, self.batch_size = env, batch_size
        self.worker: asyncio.subprocess.Process | None = None
        self.born = 0.0
        self.self_exits = 0

    async def start(self) -> None:
        self.worker = await start_sync_worker(self.env, self.batch_size)
        self.born = time.monotonic()

    async def keep_alive(self) -> None:
        while self.worker is None or self.worker.returncode is not None:
            if self.worker is not None:
                stderr = await self.worker.stderr.read() if self.worker.stderr else b""
                print(f"worker exited by itself: {stderr.decode()[-300:]!r}", flush=True)
                self.self_exits += 1
            await self.start()
            await asyncio.sleep(MIN_ALIVE_S)

    async def kill(self) -> None:
        await self.keep_alive()
        await asyncio.sleep(max(0.0, self.born + MIN_ALIVE_S - time.monotonic()))
        await self.keep_alive()
        assert self.worker is not None
        await sigkill(self.worker)

    async def stop(self) -> None:
        if self.worker is not None and self.worker.returncode is None:
            self.worker.terminate()
            await self.worker.wait()


async def _update(song_id: str, data: SongUpdate, reads: HotReads[Any]) -> None:
    if song := await Song.get(PydanticObjectId(song_id)):
        await service.update_song(song, data, None, reads=reads)


async def _delete(song_id: str, reads: HotReads[Any]) -> None:
    if song := await Song.get(PydanticObjectId(song_id)):
        await service.delete_song(song, None, reads=reads)


async def _retrying(change: Callable[[], Awaitable[T]]) -> T | None:
    """A writer that retries through a stall of the shared stand-in, as a client would.

    A retried insert may land twice and a retried delete may find nothing: both leave
    MongoDB in a state the sync must mirror, which is all the check compares.
    """
    for attempt in range(RETRIES):
        try:
            return await change()
        except NotFoundError:
            return None  # a retried delete whose first attempt had landed
        except PyMongoError as exc:
            if attempt == RETRIES - 1:
                raise
            print(f"writer retrying after {exc!r:.120}", flush=True)
            await asyncio.sleep(2.0)
    return None


async def _measure(
    changes: int, kills: int, batch_size: int, seed: int, mongodb_url: str | None
) -> dict[str, Any]:
    base = stack_settings()
    settings = base.model_copy(
        update={
            "mongodb": base.mongodb.model_copy(update={"url": mongodb_url or base.mongodb.url}),
            "elasticsearch": base.elasticsearch.model_copy(
                update={"index_prefix": f"bench-{uuid.uuid4().hex[:6]}"}
            ),
            "redis": base.redis.model_copy(update={"key_prefix": f"bench-{uuid.uuid4().hex[:6]}:"}),
        }
    )
    config = settings.elasticsearch
    rng = random.Random(seed)
    mongo = create_mongo_client(settings.mongodb)
    es = create_es_client(config)
    db = mongo[settings.mongodb.db]
    # The service's writes bump the catalogue's generation (under the scratch prefix,
    # removed at the end): nothing here keeps hot reads.
    redis = create_redis_client(settings.redis)
    reads: HotReads[Any] = HotReads(ResponseCache(redis, settings.redis.key_prefix), 0, 60.0)
    async with beanie_on_scratch_db(settings):
        await ensure_search_indices(es, config)
        supervisor = Supervisor(process_env(settings), batch_size)
        artists = [
            str((await service.create_artist(ArtistCreate(**artist_payload(rng)))).id)
            for _ in range(ARTISTS)
        ]

        async def create() -> str:
            data = SongCreate(**song_payload(rng, rng.choice(artists)))
            song = await _retrying(lambda: service.create_song(data))
            assert song is not None
            return str(song.id)

        async def update(song_id: str) -> None:
            data = SongUpdate(duration_s=rng.randint(60, 600))
            await _retrying(lambda: _update(song_id, data, reads))

        async def delete(song_id: str) -> None:
            await _retrying(lambda: _delete(song_id, reads))

        done = [0]
        points = sorted(rng.sample(range(1, changes), kills))
        reached = {point: asyncio.Event() for point in points}

        def progress(count: int) -> None:
            done[0] = count
            if count in reached:
                reached[count].set()

        started = time.perf_counter()
        writer = asyncio.create_task(
            mixed_changes(changes, rng, create, update, delete, progress=progress)
        )

        def release(_: object) -> None:
            for event in reached.values():  # a writer that failed must not hang the killer
                event.set()

        writer.add_done_callback(release)
        killed = during = 0
        try:
            await supervisor.start()
            for point in points:
                while not reached[point].is_set():
                    await supervisor.keep_alive()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(reached[point].wait(), timeout=1.0)
                await supervisor.kill()
                killed += 1
                during += not writer.done()
                print(f"kill {killed}/{kills} at change {done[0]:,}", flush=True)
                await supervisor.start()
            made = await writer
            written_s = time.perf_counter() - started
            for _ in range(CATCH_UP_TIMEOUT_S * 2):
                if (await sync_status(db, "songs"))["lag_s"] == 0:
                    break
                await supervisor.keep_alive()
                await asyncio.sleep(0.5)
            synced_s = time.perf_counter() - started
            await supervisor.stop()
            final = SongSync(db, es, config, options=SyncOptions(settle_s=0.0))
            residual = await final.catch_up()
            await es.indices.refresh(index=SONGS.alias(config.index_prefix))
            result = await check_songs(db, es, config)
        finally:
            await supervisor.stop()
            await drop_prefix(es, config.index_prefix)
            await es.close()
            await mongo.close()
            await redis.delete(f"{settings.redis.key_prefix}cache-gen:{CacheNamespace.CATALOG}")
            await redis.aclose()
    return {
        "changes": changes,
        "inserts": made["inserts"],
        "updates": made["updates"],
        "deletes": made["deletes"],
        "kills": killed,
        "kills_while_writing": during,
        "self_exits": supervisor.self_exits,
        "batch_size": batch_size,
        "writes_s": round(written_s, 1),
        "wall_s": round(synced_s, 1),
        "changes_per_s": round(changes / synced_s, 1),
        "residual": residual,
        "songs_in_mongo": result.in_mongo,
        "songs_in_es": result.in_elasticsearch,
        "lost": len(result.lost),
        "unexpected": len(result.unexpected),
        "stale": len(result.stale),
    }


def run(
    changes: int = CHANGES,
    kills: int = KILLS,
    batch_size: int = BATCH,
    mongodb_url: str | None = None,
) -> Path:
    row = asyncio.run(_measure(changes, kills, batch_size, 42, mongodb_url))
    server = mongodb_url or stack_settings().mongodb.url
    return report.write("sync_kill", {**row, "mongodb": server}, [row])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=CHANGES)
    parser.add_argument("--kills", type=int, default=KILLS)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument(
        "--mongodb-url",
        help="a MongoDB-wire server of its own (default: the local stack's)",
    )
    args = parser.parse_args()
    run(args.changes, args.kills, args.batch_size, args.mongodb_url)
