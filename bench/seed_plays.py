"""Seeding play events: seconds, events/s and peak memory at 100k and at 1M (or 300k).

Each size runs in a fresh child process (`python -m bench.seed_plays --child N`) that
loads a few thousand songs and listeners plus N play events into its own scratch
database with `seed.load.load` (batches of 1,000 upserts), then drops it. Memory is
the child's **peak RSS from `resource.getrusage(RUSAGE_SELF).ru_maxrss`**, reported
whole and as growth over the same process's peak just before loading (imports and
clients): a high-water mark cannot be reset inside one process, hence one per size.
tracemalloc is not used here: it slows generation several-fold (the streaming bound
under tracemalloc is asserted in tests/seed/test_generate.py instead).

The seconds are the play events only (first to last batch), from the loader's
progress callback; the songs and listeners before them are timed apart.

1M is attempted only if the 100k rate predicts it within `BUDGET_S` (about six
minutes) on this server; otherwise 300k runs instead and the result says so.
`python -m bench.seed_plays --sizes 100000 1000000` runs the given sizes regardless.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from beatstream.settings import MongoSettings
from beatstream.stores.clients import create_mongo_client
from bench import report
from bench.support.stores import stack_settings
from seed.generate import Counts
from seed.load import load

FIRST, LARGE, FALLBACK = 100_000, 1_000_000, 300_000
BUDGET_S = 360
ARTISTS, SONGS, LISTENERS = 300, 5_000, 5_000
BATCH = 1_000
CHILD_TIMEOUT_S = 3_600


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def _child(plays: int) -> dict[str, Any]:
    settings = MongoSettings(url=os.environ["MONGODB_URL"], db=os.environ["MONGODB_DB"])
    client = create_mongo_client(settings)
    marks: dict[str, float] = {}

    def progress(collection: str, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if collection == "play_events":
            marks.setdefault("plays_start", now)
            marks["plays_end"] = now
        else:
            marks.setdefault("catalogue_start", now)

    baseline = _peak_rss_mb()
    try:
        counts = Counts(artists=ARTISTS, songs=SONGS, listeners=LISTENERS, plays=plays)
        result = await load(
            client[settings.db], counts, 42, derived=None, batch_size=BATCH, progress=progress
        )
        assert result.ok, result.failures[:5]
        assert result.written["play_events"] == plays
    finally:
        await client.drop_database(settings.db)
        await client.close()
    seconds = marks["plays_end"] - marks["plays_start"]
    peak = _peak_rss_mb()
    return {
        "plays": plays,
        "songs + listeners": SONGS + LISTENERS,
        "catalogue_s": round(marks["plays_start"] - marks["catalogue_start"], 1),
        "plays_s": round(seconds, 1),
        "events_per_s": round(plays / seconds),
        "peak_rss_mb": round(peak, 1),
        "rss_growth_mb": round(peak - baseline, 1),
    }


def _run_size(plays: int, url: str) -> dict[str, Any]:
    db = f"bench_seed_{uuid.uuid4().hex[:8]}"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.seed_plays", "--child", str(plays)],
            capture_output=True,
            text=True,
            env={**os.environ, "MONGODB_URL": url, "MONGODB_DB": db},
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    finally:
        asyncio.run(_drop(url, db))  # also when the child died before its own drop
    if done.returncode != 0:
        raise RuntimeError(f"child for {plays:,} plays failed:\n{done.stderr[-2000:]}")
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(row, flush=True)
    return row


async def _drop(url: str, db: str) -> None:
    client = create_mongo_client(MongoSettings(url=url, db=db))
    try:
        await client.drop_database(db)
    finally:
        await client.close()


def run(sizes: list[int] | None = None, mongodb_url: str | None = None) -> Path:
    """`sizes` (`--sizes 100000 1000000`) runs exactly those, whatever the budget;
    `mongodb_url` (`--mongodb-url`) a MongoDB-wire server of its own."""
    url = mongodb_url or stack_settings().mongodb.url
    if sizes:
        rows = [_run_size(size, url) for size in sizes]
        note = "sizes requested on the command line: " + ", ".join(f"{n:,}" for n in sizes)
    else:
        rows = [_run_size(FIRST, url)]
        predicted = LARGE / rows[0]["events_per_s"]
        if predicted <= BUDGET_S:
            second, note = LARGE, f"1M predicted at {predicted:.0f}s from the 100k rate: run"
        else:
            second = FALLBACK
            note = (
                f"1M predicted at {predicted:.0f}s from the 100k rate (budget {BUDGET_S}s) on "
                "this server: ran 300k instead"
            )
        rows.append(_run_size(second, url))
    print(note, flush=True)
    return report.write(
        "seed_plays",
        {
            "rows": rows,
            "note": note,
            "memory": "peak RSS of a fresh child process per size (ru_maxrss)",
            "server": url,
        },
        rows,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(asyncio.run(_child(int(sys.argv[2])))), flush=True)
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--sizes", type=int, nargs="+")
        parser.add_argument("--mongodb-url")
        args = parser.parse_args()
        run(args.sizes, args.mongodb_url)
