"""Reindex of 100k songs: the bulk pipeline vs one document per request, same run.

The naive loader is the reference design's: one `index` request per song. It is
timed on the first 5,000 songs (its rate does not change with size); the bulk path
reindexes all 100k through `pipelines.reindex.reindex_songs` (new index, refresh off,
replicas 0, verify, alias swap). Both read the same MongoDB rows.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

from elasticsearch import AsyncElasticsearch

from beatstream.search.indices import (
    SONGS,
    create_songs_index,
    ensure_search_indices,
    song_document,
)
from bench import report
from bench.support.stores import scratch_stores
from pipelines.reindex import reindex_songs
from seed.rows import song_row

SONGS_TOTAL = 100_000
NAIVE_SAMPLE = 5_000


async def _naive(es: AsyncElasticsearch, index: str, rows: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for row in rows:
        doc = song_document(row)
        await es.index(index=index, id=doc["id"], document=doc)
    return len(rows) / (time.perf_counter() - started)


async def _measure() -> list[dict[str, Any]]:
    rng = random.Random(42)
    async with scratch_stores() as stores:
        db, es, config = stores.db, stores.es, stores.search
        batch: list[dict[str, Any]] = []
        for _ in range(SONGS_TOTAL):
            batch.append(song_row(rng))
            if len(batch) == 5000:
                await db.songs.insert_many(batch)
                batch = []
        await ensure_search_indices(es, config)
        sample = await db.songs.find({}).limit(NAIVE_SAMPLE).to_list(NAIVE_SAMPLE)
        naive_index = await create_songs_index(es, config)
        naive_rate = await _naive(es, naive_index, sample)
        reindexed = await reindex_songs(db, es, config, cache=None, batch_size=2000, concurrency=2)
        bulk_rate = reindexed.docs_per_s
        assert reindexed.indexed == SONGS_TOTAL
        return [
            {
                "loader": "one document per request",
                "documents": NAIVE_SAMPLE,
                "docs_per_s": round(naive_rate, 1),
                "vs_naive": 1.0,
            },
            {
                "loader": "bulk reindex (new index + alias swap)",
                "documents": reindexed.indexed,
                "docs_per_s": round(bulk_rate, 1),
                "vs_naive": round(bulk_rate / naive_rate, 1),
            },
        ]


def run() -> Path:
    rows = asyncio.run(_measure())
    return report.write("reindex_songs", {"rows": rows, "alias": SONGS.name}, rows)


if __name__ == "__main__":
    run()
