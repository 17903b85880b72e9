"""Rebuild of 100k play events into a new generation of monthly indices.

100k plays over twelve months are written to MongoDB, then rebuilt twice with
`pipelines.reindex_plays.reindex_plays` (bulk load into a new generation, verify,
one alias swap, old generation dropped): the first build starts from no play
index, the second replaces a serving generation of the same size, the normal case.
The rate is the report's own (plays indexed / seconds, swap and drop included).
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import ObjectId

from beatstream.search.indices import ensure_search_indices, plays_alias
from bench import report
from bench.support.stores import scratch_stores
from pipelines.reindex_plays import reindex_plays
from seed.rows import song_row

PLAYS = 100_000
SONGS = 500
BATCH = 5_000


def _play(rng: random.Random, songs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "listener_id": ObjectId(),
        "song_id": rng.choice(songs)["_id"],
        "played_at": datetime(2025, rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC),
        "country": "IT",
        "ms_played": rng.randint(1_000, 300_000),
    }


async def _measure() -> list[dict[str, Any]]:
    rng = random.Random(42)
    async with scratch_stores() as stores:
        db, es, config = stores.db, stores.es, stores.search
        songs = [song_row(rng) for _ in range(SONGS)]
        await db.songs.insert_many(songs)
        for _ in range(PLAYS // BATCH):
            await db.play_events.insert_many([_play(rng, songs) for _ in range(BATCH)])
        await ensure_search_indices(es, config)
        # A rebuild copies the plays older than its 1 s settle window and leaves newer
        # ones to its catch-up: wait it out so every play is in the measured copy.
        await asyncio.sleep(1.5)
        rows = []
        for label in ("first build (no play index yet)", "rebuild (replaces a serving one)"):
            built = await reindex_plays(db, es, config, cache=None, batch_size=2000, concurrency=2)
            assert built.indexed == PLAYS, built
            assert int((await es.count(index=plays_alias(config.index_prefix)))["count"]) == PLAYS
            rows.append(
                {
                    "build": label,
                    "plays": built.indexed,
                    "seconds": round(built.seconds, 1),
                    "docs_per_s": round(built.docs_per_s, 1),
                }
            )
            print(rows[-1], flush=True)
        return rows


def run() -> Path:
    rows = asyncio.run(_measure())
    return report.write("reindex_plays", {"rows": rows}, rows)


if __name__ == "__main__":
    run()
