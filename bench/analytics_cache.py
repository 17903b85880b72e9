"""Analytics through the Redis response cache, at 50 concurrent clients, over 10k songs.

One `beatstream serve` process (one worker) on the running stack, on a scratch index
prefix, Redis key prefix and MongoDB database. 10,000 songs (seed builders,
`Random(42)`) go straight into Elasticsearch through `song_document`. Then, each
scenario in turn against that same server:

- `GET /health/live`: constant JSON, no store touched; the floor every other row is
  compared with (`x live` = that row's req/s over this one's).
- top artists, cached: one URL (`country=IT&limit=10`), warmed once, so every timed
  request is a Redis hit.
- top artists, uncached: every request a different `(country, limit)` pair (12
  countries with views x limits 1-100, shuffled, none repeated), so every request is
  a miss: generation read, lock, the Elasticsearch aggregation, store. That is what
  a cold key costs a client, cache overhead included; the run checks the `X-Cache`
  header of every response and reports any that were not what the row claims.
- `GET /v1/search/suggest?prefix=` over the same songs (2-4 letter prefixes of real
  titles), when that endpoint exists.

The load generator is this process, sharing the machine's cores with the server,
Elasticsearch, Redis and MongoDB: compare rows within one run, not with figures
from elsewhere. Scratch indices, template, Redis keys and database are removed.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from elasticsearch.helpers import async_bulk

from beatstream.search.indices import SONGS, song_document
from beatstream.settings import Settings
from beatstream.stores.clients import create_es_client
from bench import report
from bench.support.processes import process_env, served
from bench.support.stores import drop_scratch, scratch_settings
from bench.support.timing import concurrent_gets
from seed.builders import COUNTRIES, artist_payload, song_payload

SONGS_COUNT = 10_000
ARTISTS = 500
CLIENTS = 50
REQUESTS = 2_000
UNCACHED_REQUESTS = 1_000
WARMUP = 100


def _rows(rng: random.Random) -> list[dict[str, Any]]:
    artists = [{"id": ObjectId(), "name": artist_payload(rng)["name"]} for _ in range(ARTISTS)]
    rows = []
    for index in range(SONGS_COUNT):
        artist = rng.choice(artists)
        payload = song_payload(rng, str(artist["id"]))
        payload.pop("artist_id")
        moment = f"2026-01-01T00:00:{index % 60:02d}Z"
        rows.append(
            {
                "_id": ObjectId(),
                **payload,
                "artist": artist,
                "created_at": moment,
                "updated_at": moment,
            }
        )
    return rows


async def _index(settings: Settings, rows: list[dict[str, Any]]) -> float:
    es = create_es_client(settings.elasticsearch)
    alias = SONGS.alias(settings.elasticsearch.index_prefix)
    try:
        started = time.perf_counter()
        actions = (
            {"_index": alias, "_id": str(row["_id"]), "_source": song_document(row)} for row in rows
        )
        indexed, errors = await async_bulk(es, actions, chunk_size=1_000, refresh=True)
        if indexed != len(rows):
            raise RuntimeError(f"indexed {indexed} of {len(rows)}: {errors!r}"[:500])
        return time.perf_counter() - started
    finally:
        await es.close()


def _scenarios(rows: list[dict[str, Any]], suggest: bool) -> dict[str, tuple[list[str], list[str]]]:
    """name -> (timed paths, warm-up paths)."""
    rng = random.Random(42)
    cached = "/v1/analytics/top-artists?country=IT&limit=10"
    pairs = [(country, limit) for country in COUNTRIES for limit in range(1, 101)]
    rng.shuffle(pairs)
    uncached = [f"/v1/analytics/top-artists?country={c}&limit={n}" for c, n in pairs]
    # Warm the connections and code paths on keys the timed run never asks for.
    warm_uncached = [f"/v1/analytics/top-artists?country=AD&limit={n}" for n in range(1, 51)]
    scenarios = {
        "GET /health/live (constant JSON)": (["/health/live"] * REQUESTS, ["/health/live"] * 100),
        "top-artists, cached (hit)": ([cached] * REQUESTS, [cached] * WARMUP),
        "top-artists, uncached (miss)": (uncached[:UNCACHED_REQUESTS], warm_uncached),
    }
    if suggest:
        titles = [str(row["title"]).lower() for row in rows]
        prefixes = [title[: rng.randint(2, 4)] for title in rng.sample(titles, REQUESTS)]
        paths = [f"/v1/search/suggest?prefix={p}" for p in prefixes]
        scenarios["search/suggest"] = (paths, paths[:WARMUP])
    return scenarios


def _has_suggest(base_url: str) -> bool:
    response = httpx.get(f"{base_url}/v1/search/suggest", params={"prefix": "ni"}, timeout=10)
    return response.status_code == 200


async def _cleanup(settings: Settings) -> None:
    await drop_scratch(settings, f"{settings.elasticsearch.index_prefix}-")


def run() -> Path:
    settings = scratch_settings("analytics")
    env = process_env(settings, ELASTICSEARCH_MANAGE_INDICES="true")
    table: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    try:
        with served(env) as base_url:  # creates the scratch indices at start
            rows = _rows(random.Random(42))
            result["index_s"] = round(asyncio.run(_index(settings, rows)), 2)
            suggest = _has_suggest(base_url)
            result["suggest_measured"] = suggest
            live_rps = None
            for name, (paths, warmup) in _scenarios(rows, suggest).items():
                load = asyncio.run(concurrent_gets(base_url, paths, clients=CLIENTS, warmup=warmup))
                rps = load.requests_per_s
                live_rps = live_rps or rps
                table.append(
                    {
                        "scenario": name,
                        "clients": CLIENTS,
                        "requests": len(load.latencies_ms),
                        "failed": load.failures,
                        "x_cache": ", ".join(f"{k} {v}" for k, v in sorted(load.x_cache.items())),
                        "req_per_s": round(rps, 1),
                        "x_live": round(rps / live_rps, 2),
                        "p50_ms": round(report.percentile(load.latencies_ms, 50), 2),
                        "p99_ms": round(report.percentile(load.latencies_ms, 99), 2),
                    }
                )
    finally:
        asyncio.run(_cleanup(settings))
    result.update(songs=SONGS_COUNT, artists=ARTISTS, rows=table)
    return report.write("analytics_cache", result, table)


if __name__ == "__main__":
    run()
