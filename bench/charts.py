"""Charts from plays: roll-up throughput against the ingest rate, its memory, and a weekly
chart for one country cold and cached, at 100k and 1M plays (`--sizes` to choose).

Each size runs in a fresh child process (`python -m bench.charts --child N`) on its
own scratch database, index prefix and Redis key prefix, all dropped afterwards:

1. **Ingest**: `seed.load.load` writes N plays (batches of 1,000 upserts), the fastest
   writer the platform has; its events/s is the rate the roll-up must keep up with.
2. **Roll-up**: `PlayRollup` (`--batch-size`, default 20,000 as `beatstream sync`) counts
   every play from an empty checkpoint in one pass (one cursor), chunk after chunk
   as `sync` runs it. Memory is
   the child's **current RSS** (`/proc/self/statm`) sampled after every chunk: its
   peak during the roll-up, and its growth over the RSS just before. The high-water
   mark (`ru_maxrss`) would report the seed's peak instead, and tracemalloc would slow
   the timed loop several-fold. The counters are then checked against a recount.
3. **Chart**: `reindex_songs` and `reindex_plays` index the songs and the plays; the
   busiest ISO week and its busiest country are picked; `analytics.service.chart` is
   timed once cold (first query after the rebuild), then repeated uncached
   (Elasticsearch may answer from its request cache), then through
   `ResponseCache.get_or_compute` as the API serves it (a Redis hit after the fill).
4. **API ingest**: 20,000 plays through `POST /v1/plays/batch` (500 a request, 4
   clients, one `beatstream serve` worker on the same 2 CPUs): what listeners can
   send, the other rate the roll-up must keep up with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from beatstream.analytics import service
from beatstream.analytics.schemas import body_of
from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.search.indices import drop_prefix, ensure_search_indices, plays_alias
from beatstream.settings import Settings
from beatstream.stores.clients import close_stores, open_stores
from bench import report
from bench.support.processes import process_env, served
from bench.support.stores import stack_settings
from bench.support.tokens import bearer
from pipelines import checkpoints, counters
from pipelines.reindex import reindex_songs
from pipelines.reindex_plays import reindex_plays
from pipelines.rollup import SOURCE, PlayRollup
from pipelines.sync import SyncOptions
from seed.generate import Counts
from seed.load import load

SIZES = (100_000, 1_000_000)
ARTISTS, SONGS, LISTENERS = 300, 5_000, 5_000
SEED_BATCH = 1_000
REPEATS = 20
CHILD_TIMEOUT_S = 3_600
PAGE_KB = os.sysconf("SC_PAGE_SIZE") / 1024
API_PLAYS, API_BATCH, API_CLIENTS = 20_000, 500, 4


async def _api_ingest(db: Any, settings: Settings) -> dict[str, Any]:
    """`POST /v1/plays/batch` (500 events, `API_CLIENTS` at a time, one `serve` worker):
    the rate listeners' plays can arrive at, against which the roll-up must keep up."""
    secret = secrets.token_urlsafe(48)
    songs = [s["_id"] async for s in db.songs.find({}, {"_id": 1}).limit(200)]
    listeners = [x["_id"] async for x in db.listeners.find({}, {"_id": 1}).limit(200)]
    rng = random.Random(7)
    batches = [
        {
            "events": [
                {
                    "listener_id": str(rng.choice(listeners)),
                    "song_id": str(rng.choice(songs)),
                    "country": rng.choice(("IT", "DE", "FR", "ES", "GB")),
                    "ms_played": 1000,
                    "played_at": "2026-11-16T10:00:00Z",
                }
                for _ in range(API_BATCH)
            ]
        }
        for _ in range(API_PLAYS // API_BATCH)
    ]
    with served(process_env(settings, SECURITY_JWT_SECRET=secret)) as base_url:
        headers = await bearer(settings, secret)
        async with httpx.AsyncClient(base_url=base_url, timeout=60, headers=headers) as http:
            queue = list(batches)

            async def client() -> None:
                while queue:
                    response = await http.post("/v1/plays/batch", json=queue.pop())
                    assert response.status_code == 201, response.text

            await http.post("/v1/plays/batch", json=batches[0])  # warm-up, not timed
            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(API_CLIENTS)))
            seconds = time.perf_counter() - started
    return {"api_ingest_per_s": round(len(batches) * API_BATCH / seconds)}


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_KB / 1024


def _scratch(settings: Settings, tag: str) -> Settings:
    return settings.model_copy(
        update={
            "elasticsearch": settings.elasticsearch.model_copy(
                update={"index_prefix": f"bench-charts-{tag}"}
            ),
            "redis": settings.redis.model_copy(update={"key_prefix": f"bs:bench:charts:{tag}:"}),
        }
    )


async def _busiest_week(stores: Any, settings: Settings) -> tuple[datetime, str]:
    response = await stores.es.search(
        index=plays_alias(settings.elasticsearch.index_prefix),
        size=0,
        aggs={
            "weeks": {
                "date_histogram": {"field": "played_at", "calendar_interval": "week"},
                "aggs": {"countries": {"terms": {"field": "country", "size": 1}}},
            }
        },
    )
    week = max(response["aggregations"]["weeks"]["buckets"], key=lambda b: b["doc_count"])
    start = datetime.fromtimestamp(week["key"] / 1000, UTC)
    return start, week["countries"]["buckets"][0]["key"]


async def _child(plays: int, batch_size: int) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    settings = _scratch(stack_settings(f"bench_charts_{tag}"), tag)
    stores = open_stores(settings)
    db, es, config = stores.mongo_db, stores.es, settings.elasticsearch
    row: dict[str, Any] = {"plays": plays, "rollup_batch": batch_size}
    try:
        await ensure_search_indices(es, config)
        started = time.perf_counter()
        counts = Counts(artists=ARTISTS, songs=SONGS, listeners=LISTENERS, plays=plays)
        result = await load(db, counts, 42, derived=None, batch_size=SEED_BATCH)
        assert result.ok, result.failures[:5]
        row["ingest_s"] = round(time.perf_counter() - started, 1)
        row["ingest_per_s"] = round(plays / (time.perf_counter() - started))

        rollup = PlayRollup(db, es, config, options=SyncOptions(batch_size=batch_size))
        checkpoint = await checkpoints.load(db, SOURCE)
        before = peak = _rss_mb()
        samples: list[float] = []
        started = time.perf_counter()
        async for _chunk in rollup.chunks(checkpoint):
            samples.append(_rss_mb())
            peak = max(peak, samples[-1])
        seconds = time.perf_counter() - started
        row["rollup_s"] = round(seconds, 1)
        row["rollup_per_s"] = round(plays / seconds)
        row["rollup_vs_ingest"] = round(row["rollup_per_s"] / row["ingest_per_s"], 2)
        row["rss_before_mb"] = round(before, 1)
        row["rss_at_10pct_mb"] = round(samples[len(samples) // 10], 1)
        row["rss_peak_mb"] = round(peak, 1)
        row["rss_growth_mb"] = round(peak - before, 1)
        check = await counters.check(db)
        row["counted_plays"] = check.plays
        row["counter_drift"] = len(check.drift)
        print(json.dumps(row), file=sys.stderr, flush=True)  # kept if a later stage fails

        await reindex_songs(db, es, config, cache=None)  # titles, and the counters
        await reindex_plays(db, es, config, cache=None)
        start, country = await _busiest_week(stores, settings)
        row["week"], row["country"] = start.date().isoformat(), country
        timed = time.perf_counter()
        chart = await service.chart(es, config, "songs", "week", start.date(), country)
        row["chart_cold_ms"] = round((time.perf_counter() - timed) * 1000, 1)
        assert chart.items, "an empty chart measures nothing"
        row["chart_entries"] = len(chart.items)
        row["chart_top1_plays"] = chart.items[0].plays
        uncached = []
        for _ in range(REPEATS):
            timed = time.perf_counter()
            await service.chart(es, config, "songs", "week", start.date(), country)
            uncached.append((time.perf_counter() - timed) * 1000)
        row["chart_uncached_p50_ms"] = round(report.median(uncached), 1)

        cache = ResponseCache(stores.redis, settings.redis.key_prefix)

        async def compute() -> bytes:
            full = await service.chart(es, config, "songs", "week", start.date(), country)
            return body_of(service.head(full, 10))

        key = {"view": "top-songs", "window": "week", "date": str(start.date()), "c": country}
        await cache.get_or_compute(CacheNamespace.PLAYS, key, 60, compute)
        cached = []
        for _ in range(REPEATS):
            timed = time.perf_counter()
            hit = await cache.get_or_compute(CacheNamespace.PLAYS, key, 60, compute)
            cached.append((time.perf_counter() - timed) * 1000)
            assert hit.status == "hit", hit.status
        row["chart_cached_p50_ms"] = round(report.median(cached), 2)
        row |= await _api_ingest(db, settings)
        row["rollup_vs_api_ingest"] = round(row["rollup_per_s"] / row["api_ingest_per_s"], 2)
    finally:
        await stores.mongo.drop_database(settings.mongodb.db)
        await drop_prefix(es, config.index_prefix)
        keys = [k async for k in stores.redis.scan_iter(match=f"{settings.redis.key_prefix}*")]
        if keys:
            await stores.redis.delete(*keys)
        await close_stores(stores)
    return row


def _run_size(plays: int, batch_size: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.charts", "--child", str(plays), str(batch_size)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child for {plays:,} plays failed:\n{done.stderr[-3000:]}")
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(row, flush=True)
    return row


def run(sizes: list[int] | None = None, batch_size: int = 20_000) -> Path:
    rows = [_run_size(size, batch_size) for size in sizes or SIZES]
    return report.write(
        "charts",
        {
            "rows": rows,
            "memory": "current RSS (/proc/self/statm) sampled after every roll-up chunk",
            "ingest": "seed.load.load, batches of 1,000 upserts, same child, just before",
        },
        rows,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(asyncio.run(_child(int(sys.argv[2]), int(sys.argv[3])))), flush=True)
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--sizes", type=int, nargs="+")
        parser.add_argument("--batch-size", type=int, default=20_000)
        args = parser.parse_args()
        run(args.sizes, args.batch_size)
