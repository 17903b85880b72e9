"""Play-event insert rate of a MongoDB-wire server: `insert_many` batches of 1,000.

Compares the servers the project can run here (docs/mongodb-stand-in.md): set
`BENCH_MONGO_URLS` to `label=url` pairs separated by spaces, e.g.
`stand-in=mongodb://127.0.0.1:27017/?directConnection=true
mongoeco=mongodb://127.0.0.1:27231/?directConnection=true`. Each server gets the same
seeded play events (seed 42) into a scratch database with the two play indexes of
`PlayEvent`, dropped afterwards; the rate is documents over the wall time of the
inserts alone.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from itertools import islice
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient

from bench import report
from seed.generate import Counts, plays

PLAYS = int(os.environ.get("BENCH_PLAYS", "2000"))
BATCH = 1_000


async def _rate(url: str) -> float:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    db = client[f"bench_insert_{uuid.uuid4().hex[:8]}"]
    try:
        for fields in (("song_id", "played_at", "_id"), ("listener_id", "played_at", "_id")):
            await db.play_events.create_index(
                [(fields[0], ASCENDING), (fields[1], DESCENDING), (fields[2], DESCENDING)]
            )
        docs = plays(42, Counts(artists=100, songs=1_000, listeners=1_000, plays=PLAYS))
        started = time.perf_counter()
        while batch := list(islice(docs, BATCH)):
            await db.play_events.insert_many(batch, ordered=False)
        elapsed = time.perf_counter() - started
        assert await db.play_events.count_documents({}) == PLAYS
    finally:
        await client.drop_database(db.name)
        await client.close()
    return PLAYS / elapsed


def run() -> None:
    pairs = os.environ.get("BENCH_MONGO_URLS", "").split()
    if not pairs:
        raise SystemExit("set BENCH_MONGO_URLS='label=url ...'")
    table = []
    for pair in pairs:
        label, url = pair.split("=", 1)
        rate = asyncio.run(_rate(url))
        table.append({"server": label, "plays": PLAYS, "inserts/s": round(rate)})
    report.write("mongo_insert_rate", {"batch": BATCH}, table)


if __name__ == "__main__":
    run()
