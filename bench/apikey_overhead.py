"""What the partner-key check costs per request: a keyed route vs an open one, same run.

Two server processes (uvicorn, one worker each) run at once, one with the per-process
key cache off (`PARTNERS_KEY_CACHE_TTL_S=0`: a MongoDB lookup per request) and one
with it at 5 s. Each serves two routes doing identical work (the same small JSON);
one is behind `require_view_scope`: the key lookup, a SHA-256 and a constant-time
compare, and the key's GCRA script in Redis. The open route is anonymous, so it pays
the per-IP limit's Redis script: what an open endpoint costs in production. Rounds
cycle through the four (server, route) pairs so drift on this shared machine hits
all alike; medians over rounds are reported, each keyed route against the open
route of its own server.

Also timed in-process, to split the difference: `authenticate` without a cache
(MongoDB point lookup + hash + compare) and one `RateLimiter.hit` (one `EVALSHA`).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
from beanie import init_beanie
from fastapi import APIRouter, FastAPI

from beatstream.app import create_app
from beatstream.partners import service
from beatstream.partners.dependencies import PartnerKey, require_view_scope
from beatstream.partners.documents import ApiKey, AuditEntry
from beatstream.ratelimit import RateLimiter
from beatstream.settings import Settings
from beatstream.stores.clients import create_mongo_client, create_redis_client
from bench import report
from bench.support.processes import process_env, serving
from bench.support.stores import stack_settings
from bench.support.timing import summary, time_each

ROUNDS = 5
REQUESTS_PER_ROUND = 1500
CLIENTS = 20
IN_PROCESS_REPEAT = 500
PAYLOAD = {"rows": [{"song": i, "plays": i * 3} for i in range(10)]}


def create_bench_app() -> FastAPI:
    """The real app (middleware, lifespan, limits) plus the two bench-only routes."""
    app = create_app()
    router = APIRouter(prefix="/v1/bench")

    @router.get("/open")
    async def open_route() -> dict[str, Any]:
        return PAYLOAD

    @router.get("/keyed")
    async def keyed_route(
        partner: Annotated[PartnerKey, require_view_scope("play_stats")],
    ) -> dict[str, Any]:
        return PAYLOAD

    app.include_router(router)
    return app


def _env(settings: Settings, prefix: str) -> dict[str, str]:
    return process_env(
        settings,
        ELASTICSEARCH_MANAGE_INDICES="false",
        REDIS_KEY_PREFIX=prefix,
        # On, since the limiter is part of the keyed path, but far above what the run
        # sends: the check is measured, not the refusals.
        RATELIMIT_ENABLED="true",
        RATELIMIT_KEY_LIMIT="1000000",
        RATELIMIT_ANONYMOUS_LIMIT="1000000",
    )


@contextmanager
def _served(env: dict[str, str]) -> Iterator[str]:
    """The bench app (the real app plus two probe routes) under uvicorn."""
    args = ["uvicorn", "--factory", "bench.apikey_overhead:create_bench_app"]
    with serving([*args, "--no-access-log", "--log-level", "warning"], env) as (base_url, _):
        yield base_url


async def _round(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> dict[str, float]:
    latencies: list[float] = []
    remaining = REQUESTS_PER_ROUND

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await http.get(path, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {response.text}")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    wall = time.perf_counter() - started
    return {"rps": len(latencies) / wall, "p50": statistics.median(latencies)}


async def _in_process(settings: Settings, plaintext: str, prefix: str) -> dict[str, float]:
    redis = create_redis_client(settings.redis)
    limiter = RateLimiter(redis, prefix, settings.ratelimit)
    try:
        auth = summary(await time_each(lambda: service.authenticate(plaintext), IN_PROCESS_REPEAT))
        hit = summary(await time_each(lambda: limiter.hit("bench", 10**6), IN_PROCESS_REPEAT))
    finally:
        await redis.aclose()
    return {
        "authenticate_median_ms": auth["median_ms"],
        "ratelimit_hit_median_ms": hit["median_ms"],
    }


VARIANTS = (
    # (name, server, path, keyed)
    ("open", "cache_off", "/v1/bench/open", False),
    ("keyed, key cache off", "cache_off", "/v1/bench/keyed", True),
    ("open", "cache_5s", "/v1/bench/open", False),
    ("keyed, key cache 5 s", "cache_5s", "/v1/bench/keyed", True),
)


async def _measure() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    settings = stack_settings()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    mongo = create_mongo_client(settings.mongodb)
    await init_beanie(database=mongo[settings.mongodb.db], document_models=[ApiKey, AuditEntry])
    results: dict[tuple[str, str], list[dict[str, float]]] = {(v[0], v[1]): [] for v in VARIANTS}
    try:
        plaintext, _ = await service.create_key("bench", ["views:read"])
        parts = await _in_process(settings, plaintext, prefix)
        env = _env(settings, prefix)
        with (
            _served({**env, "PARTNERS_KEY_CACHE_TTL_S": "0"}) as cache_off,
            _served({**env, "PARTNERS_KEY_CACHE_TTL_S": "5"}) as cache_5s,
        ):
            servers = {"cache_off": cache_off, "cache_5s": cache_5s}
            limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
            clients = {
                name: httpx.AsyncClient(base_url=url, limits=limits, timeout=60)
                for name, url in servers.items()
            }
            try:
                for rnd in range(ROUNDS + 1):  # round 0 warms up and is not counted
                    for name, server, path, keyed in VARIANTS:
                        headers = {"X-API-Key": plaintext} if keyed else {}
                        measured = await _round(clients[server], path, headers)
                        if rnd:
                            results[(name, server)].append(measured)
            finally:
                for http in clients.values():
                    await http.aclose()
    finally:
        await mongo.drop_database(settings.mongodb.db)
        await mongo.close()
        redis = create_redis_client(settings.redis)
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    rps = {v: statistics.median(r["rps"] for r in rounds) for v, rounds in results.items()}
    p50 = {v: statistics.median(r["p50"] for r in rounds) for v, rounds in results.items()}
    rows: list[dict[str, Any]] = []
    for name, server, _path, _keyed in VARIANTS:
        baseline = ("open", server)
        rows.append(
            {
                "route": name,
                "server": server,
                "requests": ROUNDS * REQUESTS_PER_ROUND,
                "clients": CLIENTS,
                "req_per_s_median": round(rps[(name, server)], 1),
                "p50_ms_median": round(p50[(name, server)], 2),
                "throughput_vs_open": round(rps[(name, server)] / rps[baseline], 3),
                "p50_vs_open": round(p50[(name, server)] / p50[baseline], 3),
            }
        )
    print(parts)
    raw = {f"{name} @ {server}": rounds for (name, server), rounds in results.items()}
    return rows, {**parts, "rounds": raw}


def run() -> Path:
    rows, extra = asyncio.run(_measure())
    return report.write("apikey_overhead", {"rows": rows, **extra}, rows)


if __name__ == "__main__":
    run()
