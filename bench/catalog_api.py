"""`GET /v1/songs/{id}` and a 20-item list page at 50 concurrent clients, 1 and 2 workers.

Each scenario runs against its own `beatstream serve --workers N` process on the
running stack, over a catalogue of 2,000 songs seeded into a scratch database. The
load generator shares the machine's 2 cores with the server: compare rows within
one run (1 vs 2 workers, item vs page), not with figures from elsewhere.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from pathlib import Path
from typing import Any

import httpx

from beatstream.settings import Settings
from bench import report
from bench.support.processes import process_env, served
from bench.support.stores import drop_scratch_db, stack_settings
from bench.support.timing import concurrent_gets
from bench.support.tokens import bearer
from seed.builders import artist_payload, song_payload

SONGS = 2_000
CLIENTS = 50
REQUESTS = 2_000


async def _seed(base_url: str, settings: Settings, secret: str) -> list[str]:
    rng = random.Random(42)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=30, headers=await bearer(settings, secret)
    ) as http:
        artists = [
            (await http.post("/v1/artists", json=artist_payload(rng))).json()["id"]
            for _ in range(50)
        ]
        ids = []
        for _ in range(SONGS):
            response = await http.post("/v1/songs", json=song_payload(rng, rng.choice(artists)))
            ids.append(response.json()["id"])
        return ids


def run() -> Path:
    settings = stack_settings()
    secret = secrets.token_urlsafe(48)
    env = process_env(
        settings,
        SECURITY_JWT_SECRET=secret,
        # Two workers must share it (`serve --workers 2` refuses to start without).
        THIRDPARTY_PSEUDONYM_SECRET=secrets.token_urlsafe(48),
    )
    rows: list[dict[str, Any]] = []
    try:
        with served(env) as base_url:
            ids = asyncio.run(_seed(base_url, settings, secret))
        rng = random.Random(7)
        scenarios = {
            "GET /v1/songs/{id}": [f"/v1/songs/{rng.choice(ids)}" for _ in range(REQUESTS)],
            "GET /v1/songs?limit=20": ["/v1/songs?limit=20"] * REQUESTS,
        }
        for workers in (1, 2):
            with served(env, workers) as base_url:
                for name, paths in scenarios.items():
                    load = asyncio.run(
                        concurrent_gets(base_url, paths, clients=CLIENTS, warmup=paths[:100])
                    )
                    rows.append(
                        {
                            "endpoint": name,
                            "workers": workers,
                            "clients": CLIENTS,
                            "requests": len(load.latencies_ms),
                            "failed": load.failures,
                            "req_per_s": round(load.requests_per_s, 1),
                            "p50_ms": round(report.percentile(load.latencies_ms, 50), 2),
                            "p99_ms": round(report.percentile(load.latencies_ms, 99), 2),
                        }
                    )
    finally:
        drop_scratch_db(settings)
    return report.write("catalog_api", {"rows": rows}, rows)


if __name__ == "__main__":
    run()
