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
from pathlib import Path

from bench import report
from bench.support.processes import served
from bench.support.timing import LoadRun, concurrent_gets
from devstack.manager import Stack

CLIENTS = 50
REQUESTS_PER_CLIENT = 40
WARMUP = 100


SCENARIOS = (
    ("live", "/health/live", "1.0"),
    ("ready, cache off", "/health/ready", "0"),
    ("ready, 1 s cache (default)", "/health/ready", "1.0"),
)


def _scenario(env: dict[str, str], path: str, ttl_s: str) -> LoadRun:
    with served({**env, "HEALTH_CACHE_TTL_S": ttl_s}) as base_url:
        paths = [path] * (CLIENTS * REQUESTS_PER_CLIENT)
        return asyncio.run(
            concurrent_gets(base_url, paths, clients=CLIENTS, warmup=[path] * WARMUP)
        )


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
        load = _scenario(env, path, ttl_s)
        latencies, failures, wall = load.latencies_ms, load.failures, load.wall_s
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
