"""`GET /v1/songs/{id}` and a 20-item list page at 50 concurrent clients, 1 and 2 workers.

Each scenario runs against its own `beatstream serve --workers N` process on the
running stack, over a catalogue of 2,000 songs seeded into a scratch database. The
load generator shares the machine's 2 cores with the server: compare rows within
one run (1 vs 2 workers, item vs page), not with figures from elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bench import report
from bench.common import free_port, stack_settings
from seed.builders import artist_payload, song_payload

SONGS = 2_000
CLIENTS = 50
REQUESTS = 2_000


async def _seed(base_url: str) -> list[str]:
    rng = random.Random(42)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        artists = [
            (await http.post("/v1/artists", json=artist_payload(rng))).json()["id"]
            for _ in range(50)
        ]
        ids = []
        for _ in range(SONGS):
            response = await http.post("/v1/songs", json=song_payload(rng, rng.choice(artists)))
            ids.append(response.json()["id"])
        return ids


async def _load(base_url: str, paths: list[str]) -> tuple[list[float], int, float]:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        for path in paths[:100]:
            await http.get(path)
        latencies: list[float] = []
        errors = 0
        queue = list(paths)

        async def worker() -> None:
            nonlocal errors
            while queue:
                path = queue.pop()
                started = time.perf_counter()
                try:
                    response = await http.get(path)
                except httpx.TransportError as exc:
                    errors += 1
                    print(f"transport error on {path}: {exc!r}")
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        return latencies, errors, time.perf_counter() - started


def _serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "beatstream",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ],
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health/live", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("the server did not start")


def run() -> Path:
    settings = stack_settings()
    env = {
        **os.environ,
        "MONGODB_URL": settings.mongodb.url,
        "MONGODB_DB": settings.mongodb.db,
        "ELASTICSEARCH_URL": settings.elasticsearch.url,
        "REDIS_URL": settings.redis.url,
        "LOG_LEVEL": "WARNING",
    }
    rows: list[dict[str, Any]] = []
    try:
        process, base_url = _serve(env, 1)
        try:
            ids = asyncio.run(_seed(base_url))
        finally:
            process.terminate()
            process.wait(30)
        rng = random.Random(7)
        scenarios = {
            "GET /v1/songs/{id}": [f"/v1/songs/{rng.choice(ids)}" for _ in range(REQUESTS)],
            "GET /v1/songs?limit=20": ["/v1/songs?limit=20"] * REQUESTS,
        }
        for workers in (1, 2):
            process, base_url = _serve(env, workers)
            try:
                for name, paths in scenarios.items():
                    latencies, errors, wall = asyncio.run(_load(base_url, paths))
                    rows.append(
                        {
                            "endpoint": name,
                            "workers": workers,
                            "clients": CLIENTS,
                            "requests": len(latencies),
                            "failed": errors,
                            "req_per_s": round(len(latencies) / wall, 1),
                            "p50_ms": round(report.percentile(latencies, 50), 2),
                            "p99_ms": round(report.percentile(latencies, 99), 2),
                        }
                    )
            finally:
                process.terminate()
                process.wait(30)
    finally:

        async def drop() -> None:
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb.url)
            await client.drop_database(settings.mongodb.db)
            await client.close()

        asyncio.run(drop())
    return report.write("catalog_api", {"rows": rows}, rows)


if __name__ == "__main__":
    run()
