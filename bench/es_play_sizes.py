"""Bytes per play event on disk in an Elasticsearch monthly play index.

Indexes seeded play events (seed 42, `play_document` with each song's artist and genre,
the play mapping `PLAY_MAPPINGS`, one shard, no replica) into a scratch index on the
running Elasticsearch, force-merges it to one segment (what a finished month becomes)
and reads `_stats/store`: the figure docs/scaling.md multiplies to size the monthly
indices and their shards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_bulk

from beatstream.search.indices import PLAY_MAPPINGS, play_document
from bench import report
from seed.generate import Counts, plays, songs

PLAYS = int(os.environ.get("BENCH_PLAYS", "200000"))
COUNTS = Counts(artists=300, songs=5_000, listeners=20_000, plays=PLAYS)


async def _measure(url: str) -> dict[str, Any]:
    es = AsyncElasticsearch(url, request_timeout=300)
    index = f"bench-play-sizes-{uuid.uuid4().hex[:8]}"
    catalogue = {s["_id"]: s for s in songs(42, COUNTS)}
    try:
        await es.indices.create(
            index=index,
            mappings=PLAY_MAPPINGS,
            settings={"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"},
        )
        actions = (
            {
                "_index": index,
                "_id": str(p["_id"]),
                "_source": play_document(p, catalogue[p["song_id"]]),
            }
            for p in plays(42, COUNTS)
        )
        await async_bulk(es, actions, chunk_size=2_000)
        await es.indices.refresh(index=index)
        await es.indices.forcemerge(index=index, max_num_segments=1)
        stats = await es.indices.stats(index=index, metric="store,docs")
        primaries = stats["indices"][index]["primaries"]
        docs, size = primaries["docs"]["count"], primaries["store"]["size_in_bytes"]
    finally:
        await es.indices.delete(index=index, ignore_unavailable=True)
        await es.close()
    return {"plays": docs, "store bytes": size, "bytes/play": round(size / docs, 1)}


def run() -> None:
    url = os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    row = asyncio.run(_measure(url))
    report.write("es_play_sizes", {"url": url.split("@")[-1]}, [row])


if __name__ == "__main__":
    run()
