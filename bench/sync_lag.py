"""Sync lag: from a MongoDB write to the song being searchable, under ~500 writes/s.

A writer inserts songs (as the API stores them, the writes due at each tick sent
concurrently) at a paced 500/s for 20 s while the
sync follows by polling (the stand-in has no change streams; settle 1 s, as shipped).
Every 10th song is probed: searched by id every 50 ms until a search finds it, which
includes Elasticsearch's 1 s refresh. The achieved write rate is reported, since the
MongoDB stand-in may not sustain the target on this machine.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

from beatstream.search.indices import ensure_search_indices
from bench import report
from bench.support.stores import scratch_stores
from pipelines.sync import SongSync, SyncOptions
from seed.rows import song_row

RATE = 500
SECONDS = 20
SAMPLE_EVERY = 10


async def _measure() -> dict[str, Any]:
    async with scratch_stores() as stores:
        db, es, config = stores.db, stores.es, stores.search
        await db.songs.create_index([("updated_at", 1), ("_id", 1)])
        await ensure_search_indices(es, config)
        sync = SongSync(db, es, config, options=SyncOptions(batch_size=500, idle_wait_s=0.1))
        stop = asyncio.Event()
        follower = asyncio.create_task(sync.follow(stop, "polling"))
        rng = random.Random(42)
        lags: list[float] = []
        probes: list[asyncio.Task[None]] = []

        async def probe(song_id: str, written: float) -> None:
            while True:
                found = await es.search(index=sync.alias, query={"term": {"id": song_id}}, size=0)
                if found["hits"]["total"]["value"]:
                    lags.append(time.perf_counter() - written)
                    return
                await asyncio.sleep(0.05)

        written = 0
        started = time.perf_counter()
        try:
            while (elapsed := time.perf_counter() - started) < SECONDS:
                due = min(int(elapsed * RATE) - written, 50)
                # The writes due now go out concurrently, one insert each (many clients
                # writing at once, as behind the API), rather than one after another.
                rows = [song_row(rng) for _ in range(due)]
                await asyncio.gather(*(db.songs.insert_one(row) for row in rows))
                for row in rows:
                    written += 1
                    if written % SAMPLE_EVERY == 0:
                        probes.append(
                            asyncio.create_task(probe(str(row["_id"]), time.perf_counter()))
                        )
                await asyncio.sleep(0.005)
            write_seconds = time.perf_counter() - started
            await asyncio.wait_for(asyncio.gather(*probes), timeout=120)
        finally:
            stop.set()
            await follower
    return {
        "target_writes_per_s": RATE,
        "achieved_writes_per_s": round(written / write_seconds, 1),
        "writes": written,
        "probed": len(lags),
        "lag_p50_s": round(report.percentile(lags, 50), 3),
        "lag_p99_s": round(report.percentile(lags, 99), 3),
        "lag_max_s": round(max(lags), 3),
    }


def run() -> Path:
    row = asyncio.run(_measure())
    return report.write("sync_lag", row, [row])


if __name__ == "__main__":
    run()
