"""`/health/ready` latency under 50 concurrent clients, against a real `beatstream serve`.

Three scenarios side by side in one run, each against its own server process (one
uvicorn worker) on the running stack: `/health/live` (no store touched, the floor),
`/health/ready` with the answer cache off (every request joins or starts a probe
round), and `/health/ready` as shipped (answers reused for 1 s). The clients share
this process's event loop on the same 2-core machine, so the figures include the
client's own cost: compare the rows with each other, not with numbers from elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from beatstream.stack.manager import Stack
from bench import report

CLIENTS = 50
REQUESTS_PER_CLIENT = 40
WARMUP = 100


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SCENARIOS = (
    ("live", "/health/live", "1.0"),
    ("ready, cache off", "/health/ready", "0"),
    ("ready, 1 s cache (default)", "/health/ready", "1.0"),
)


async def _measure(base_url: str, path: str) -> tuple[list[float], int, float]:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        for _ in range(WARMUP):
            (await http.get(path)).raise_for_status()
        latencies: list[float] = []
        failures = 0

        async def client() -> None:
            nonlocal failures
            for _ in range(REQUESTS_PER_CLIENT):
                started = time.perf_counter()
                response = await http.get(path)
                latencies.append((time.perf_counter() - started) * 1000)
                failures += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        return latencies, failures, time.perf_counter() - started


def _scenario(env: dict[str, str], path: str, ttl_s: str) -> tuple[list[float], int, float]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "beatstream", "serve"],
        env={**env, "API_PORT": str(port), "HEALTH_CACHE_TTL_S": ttl_s},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        return asyncio.run(_measure(f"http://127.0.0.1:{port}", path))
    finally:
        server.terminate()
        server.wait(timeout=30)


def run() -> Path:
    stack = Stack()
    stack.up(report=print)
    settings = stack.settings()
    env = {
        **os.environ,
        "MONGODB_URL": settings.mongodb.url,
        "ELASTICSEARCH_URL": settings.elasticsearch.url,
        "REDIS_URL": settings.redis.url,
        "LOG_LEVEL": "WARNING",
    }
    rows = []
    for name, path, ttl_s in SCENARIOS:
        latencies, failures, wall = _scenario(env, path, ttl_s)
        rows.append(
            {
                "scenario": name,
                "clients": CLIENTS,
                "requests": len(latencies),
                "non_200": failures,
                "p50_ms": round(report.percentile(latencies, 50), 2),
                "p99_ms": round(report.percentile(latencies, 99), 2),
                "req_per_s": round(len(latencies) / wall, 1),
            }
        )
    return report.write("health_ready", {"scenarios": rows}, rows)


if __name__ == "__main__":
    run()
