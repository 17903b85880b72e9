"""Per-request cost against the framework's own floor, the driver and a naive baseline.

Issue 14. Every row is driven from outside Python by `wrk -t1 -c50 --latency`
(`bench.support.wrk`), except the raw driver row, which is what it names: 50
coroutines looping `AsyncMongoClient.find_one` on the same song, in this process.
Servers, all started once and all on the same uvicorn options (`bench.support.launch`
uses `beatstream serve`'s), rate limits off:

- bare Starlette and bare FastAPI constant JSON routes (`bench.support.bare`), FastAPI
  once without and once with uvicorn's access log, and once with its native telemetry
  told at start that there is nothing to do, as Beatstream does (the goals are stated
  against the default app; the same ratios against this one are printed beside them);
- `beatstream serve` with its production logging (`LOG_LEVEL=INFO`: a JSON access
  line per request), stderr to a file like every server here;
- the naive baseline (`bench.support.naive`): the original recipe's reads written the
  obvious way, served as `uvicorn main:app` would serve it (uvicorn's access log on).

Data, seeded into a scratch database, index prefix and Redis key prefix (all removed at
the end): 2,000 songs by 50 artists in MongoDB and Elasticsearch, one public playlist of
50 of them. Cached rows are warmed first, so every timed request is a cache hit.

Rows run in interleaved rounds (every row once per round, `ROUNDS` rounds), each row
warmed for `WARMUP_S` before its first round; the table gives the mean over rounds and
every round's req/s. A row with a non-2xx answer or a socket error is refused: the run
fails rather than report it. `BENCH_DURATION_S` (default 8) sets the seconds per row.

Absolute figures depend on the machine and whatever else it runs; the ratios, measured
side by side in one run, are what the goals (`GOALS`) are about.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from elasticsearch.helpers import async_bulk
from pymongo import AsyncMongoClient

from beatstream.search.indices import SONGS, song_document
from beatstream.settings import Settings
from beatstream.stores.clients import create_es_client
from bench import report
from bench.support.processes import cpu_seconds, process_env, serving
from bench.support.stores import drop_scratch, scratch_settings
from bench.support.wrk import WrkResult, require_wrk, run_wrk
from seed.builders import artist_payload, song_payload

CONNECTIONS = 50
ROUNDS = 2
WARMUP_S = 1
SONG_COUNT = 2_000
ARTIST_COUNT = 50
PLAYLIST_SONGS = 50


@dataclass(frozen=True)
class Seeded:
    song_id: str
    playlist_id: str


@dataclass
class Row:
    name: str
    server: str  # a key of the servers dict, or "mongo" for the driver loop
    path: str = ""
    results: list[WrkResult] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # per request, per round


# (goal, numerator row, denominator row, target): numerator req/s over denominator's.
GOALS: list[tuple[str, str, str, float]] = [
    ("/health/live vs bare FastAPI", "health_live", "fastapi", 0.8),
    ("song by id vs raw driver loop", "song", "mongo_find_one", 0.5),
    ("cached top-artists vs bare FastAPI", "top_artists", "fastapi", 1.0),
    ("cached search vs bare FastAPI", "search", "fastapi", 1.0),
    ("/health/live vs bare FastAPI, telemetry off", "health_live", "fastapi_quiet", 0.8),
    ("cached top-artists vs bare FastAPI, telemetry off", "top_artists", "fastapi_quiet", 1.0),
    ("cached search vs bare FastAPI, telemetry off", "search", "fastapi_quiet", 1.0),
    ("song by id vs naive", "song", "naive_song", 2.0),
    ("playlist of 50 vs naive", "playlist", "naive_playlist", 2.0),
    ("cached top-artists vs naive", "top_artists", "naive_top_artists", 2.0),
]
P99_OVER_P50_MAX = 3.0
P99_ROWS = ("top_artists", "search")


def _rows(seeded: Seeded) -> dict[str, Row]:
    rows = [
        Row("bare Starlette, constant JSON", "starlette", "/health/live"),
        Row("bare FastAPI, constant JSON, no access log", "fastapi", "/health/live"),
        Row("bare FastAPI, constant JSON, uvicorn access log", "fastapi_log", "/health/live"),
        Row("bare FastAPI, constant JSON, telemetry off", "fastapi_quiet", "/health/live"),
        Row("GET /health/live", "beatstream", "/health/live"),
        Row("GET /v1/songs/{id}", "beatstream", f"/v1/songs/{seeded.song_id}"),
        Row("raw AsyncMongoClient.find_one loop, 50 concurrent", "mongo"),
        Row(
            "GET /v1/analytics/top-artists (cached)",
            "beatstream",
            "/v1/analytics/top-artists?country=IT&limit=10",
        ),
        Row("GET /v1/search/songs (cached)", "beatstream", "/v1/search/songs?q=love&limit=10"),
        Row(
            "GET /v1/playlists/{id} (50 songs)", "beatstream", f"/v1/playlists/{seeded.playlist_id}"
        ),
        Row("naive GET /song/{id}", "naive", f"/song/{seeded.song_id}"),
        Row("naive GET /playlist/{id} (50 songs)", "naive", f"/playlist/{seeded.playlist_id}"),
        Row("naive GET /search/top/ten/artists/IT (cached)", "naive", "/search/top/ten/artists/IT"),
    ]
    keys = [
        "starlette",
        "fastapi",
        "fastapi_log",
        "fastapi_quiet",
        "health_live",
        "song",
        "mongo_find_one",
        "top_artists",
        "search",
        "playlist",
        "naive_song",
        "naive_playlist",
        "naive_top_artists",
    ]
    return dict(zip(keys, rows, strict=True))


async def _seed(settings: Settings) -> Seeded:
    """Songs and artists in MongoDB and Elasticsearch, a listener, a public playlist."""
    rng = random.Random(14)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    stamps = {"created_at": now, "updated_at": now, "version": 1}
    artists = [{"_id": ObjectId(), **artist_payload(rng), **stamps} for _ in range(ARTIST_COUNT)]
    songs = []
    for _ in range(SONG_COUNT):
        artist = rng.choice(artists)
        payload = song_payload(rng, str(artist["_id"]))
        payload.pop("artist_id")
        ref = {"id": artist["_id"], "name": artist["name"]}
        songs.append({"_id": ObjectId(), **payload, "artist": ref, **stamps})
    owner = ObjectId()
    playlist = {
        "_id": ObjectId(),
        "owner_id": owner,
        "name": "Bench mix",
        "visibility": "public",
        "song_ids": [s["_id"] for s in rng.sample(songs, PLAYLIST_SONGS)],
        **stamps,
    }
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb.url)
    es = create_es_client(settings.elasticsearch)
    try:
        db = mongo[settings.mongodb.db]
        await db.artists.insert_many(artists)
        await db.songs.insert_many(songs)
        await db.playlists.insert_one(playlist)
        alias = SONGS.alias(settings.elasticsearch.index_prefix)
        actions = (
            {"_index": alias, "_id": str(s["_id"]), "_source": song_document(s)} for s in songs
        )
        indexed, errors = await async_bulk(es, actions, chunk_size=1_000, refresh=True)
        if indexed != len(songs):
            raise RuntimeError(f"indexed {indexed} of {len(songs)}: {errors!r}"[:500])
    finally:
        await mongo.close()
        await es.close()
    return Seeded(song_id=str(songs[0]["_id"]), playlist_id=str(playlist["_id"]))


async def _driver_loop(settings: Settings, song_id: str, duration_s: float) -> WrkResult:
    """50 coroutines looping `find_one({"_id": id})` for `duration_s`: the driver's own rate."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb.url)
    songs = client[settings.mongodb.db].songs
    oid = ObjectId(song_id)
    latencies: list[float] = []
    failures = 0
    try:
        await songs.find_one({"_id": oid})
        deadline = time.perf_counter() + duration_s

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                found = await songs.find_one({"_id": oid})
                latencies.append(time.perf_counter() - started)
                failures += found is None

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        wall = time.perf_counter() - started
    finally:
        await client.close()
    return WrkResult(
        requests=len(latencies),
        duration_s=wall,
        non_2xx=failures,
        socket_errors=0,
        p50_ms=report.percentile(latencies, 50) * 1000,
        p99_ms=report.percentile(latencies, 99) * 1000,
    )


@contextlib.contextmanager
def _servers(env: dict[str, str], logs: Path) -> Iterator[dict[str, Server]]:
    """Every server of the run, each with its stderr (access lines included) to a file."""
    launch = ["bench.support.launch"]
    specs: dict[str, list[str]] = {
        "starlette": [*launch, "bench.support.bare:starlette_app"],
        "fastapi": [*launch, "bench.support.bare:fastapi_app"],
        "fastapi_log": [*launch, "bench.support.bare:fastapi_app", "--access-log"],
        "fastapi_quiet": [*launch, "bench.support.bare:fastapi_quiet_app"],
        "beatstream": ["beatstream", "serve"],
        "naive": [*launch, "bench.support.naive:app", "--access-log"],
    }
    cwd = str(Path(__file__).parent.parent)
    with contextlib.ExitStack() as stack:
        urls = {}
        for name, args in specs.items():
            sink = stack.enter_context((logs / f"{name}.log").open("wb"))
            url, pid = stack.enter_context(serving(args, env, cwd=cwd, stderr=sink))
            urls[name] = Server(url, pid)
        yield urls


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def _check(url: str) -> None:
    """The URL answers 200 (twice: a cached route's second answer is a hit)."""
    for _ in range(2):
        response = httpx.get(url, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")


def _measure(
    row: Row, urls: dict[str, Server], settings: Settings, seeded: Seeded, seconds: int
) -> tuple[WrkResult, float]:
    """The row's load for `seconds`, and the CPU its Python process spent per request
    (the server's; the driver loop's own): on a shared machine a steadier measure of
    the work per request than req/s, which also counts the time other processes took."""
    if row.server == "mongo":
        started = time.process_time()
        result = asyncio.run(_driver_loop(settings, seeded.song_id, seconds))
        used = time.process_time() - started
    else:
        server = urls[row.server]
        before = cpu_seconds(server.pid)
        result = run_wrk(server.url + row.path, connections=CONNECTIONS, duration_s=seconds)
        used = cpu_seconds(server.pid) - before
    return result, used / max(result.requests, 1) * 1e6


def _mean(row: Row, value: Callable[[WrkResult], float]) -> float:
    return statistics.fmean(value(r) for r in row.results)


def _table(rows: dict[str, Row]) -> list[dict[str, Any]]:
    fastapi = _mean(rows["fastapi"], lambda r: r.requests_per_s)
    return [
        {
            "row": row.name,
            "req_per_s": round(_mean(row, lambda r: r.requests_per_s)),
            "rounds_req_per_s": " / ".join(str(round(r.requests_per_s)) for r in row.results),
            "x_bare_fastapi": round(_mean(row, lambda r: r.requests_per_s) / fastapi, 2),
            "p50_ms": round(_mean(row, lambda r: r.p50_ms), 2),
            "p99_ms": round(_mean(row, lambda r: r.p99_ms), 2),
            "cpu_us_per_req": round(statistics.fmean(row.cpu_us)),
            "non_2xx": sum(r.non_2xx for r in row.results),
            "socket_errors": sum(r.socket_errors for r in row.results),
        }
        for row in rows.values()
    ]


def _goals(rows: dict[str, Row]) -> list[dict[str, Any]]:
    def rps(key: str) -> float:
        return _mean(rows[key], lambda r: r.requests_per_s)

    def cpu(key: str) -> float:
        return statistics.fmean(rows[key].cpu_us)

    goals = []
    for name, top, bottom, target in GOALS:
        ratio = rps(top) / rps(bottom)
        goals.append(
            {
                "goal": name,
                "ratio": round(ratio, 2),
                "cpu_ratio": round(cpu(bottom) / cpu(top), 2),
                "target": f">= {target}",
                "met": ratio >= target,
            }
        )
    for key in P99_ROWS:
        ratio = _mean(rows[key], lambda r: r.p99_ms) / _mean(rows[key], lambda r: r.p50_ms)
        goals.append(
            {
                "goal": f"{rows[key].name}: p99 / p50",
                "ratio": round(ratio, 2),
                "cpu_ratio": "",
                "target": f"<= {P99_OVER_P50_MAX}",
                "met": ratio <= P99_OVER_P50_MAX,
            }
        )
    return goals


async def _cleanup(settings: Settings) -> None:
    await drop_scratch(settings, f"{settings.elasticsearch.index_prefix}-")


def run() -> Path:
    require_wrk()
    seconds = int(os.environ.get("BENCH_DURATION_S", "8"))
    settings = scratch_settings("http")
    env = process_env(settings, ELASTICSEARCH_MANAGE_INDICES="true", LOG_LEVEL="INFO")
    try:
        with tempfile.TemporaryDirectory() as logs, _servers(env, Path(logs)) as urls:
            seeded = asyncio.run(_seed(settings))
            rows = _rows(seeded)
            for row in rows.values():
                if row.server != "mongo":
                    _check(urls[row.server].url + row.path)
                _measure(row, urls, settings, seeded, WARMUP_S)
            for round_ in range(ROUNDS):
                for row in rows.values():
                    result, cpu_us = _measure(row, urls, settings, seeded, seconds)
                    print(
                        f"round {round_ + 1} {row.name}: {result.requests_per_s:.0f} req/s,"
                        f" p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms,"
                        f" {cpu_us:.0f} CPU us/request, errors {result.errors}",
                        flush=True,
                    )
                    row.results.append(result)
                    row.cpu_us.append(cpu_us)
    finally:
        asyncio.run(_cleanup(settings))
    refused = [row.name for row in rows.values() if any(r.errors for r in row.results)]
    if refused:
        raise SystemExit(f"refusing to report rows with errors (non-2xx or socket): {refused}")
    table = _table(rows)
    goals = _goals(rows)
    summary: dict[str, Any] = {
        "connections": CONNECTIONS,
        "rounds": ROUNDS,
        "seconds_per_row": seconds,
        "goals": goals,
    }
    path = report.write("http_overhead", summary, table)
    lines = [
        "",
        "ratio: of req/s (what the goal is stated in); cpu_ratio: the same comparison made",
        "from CPU per request (the other row's over this row's), steadier on a shared machine.",
        "",
        "| goal | ratio | cpu_ratio | target | met |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {g['goal']} | {g['ratio']} | {g['cpu_ratio']} | {g['target']} |"
        f" {'yes' if g['met'] else 'NO'} |"
        for g in goals
    ]
    with path.open("a") as markdown:
        markdown.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return path


if __name__ == "__main__":
    run()
