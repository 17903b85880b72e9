"""What the Prometheus metrics cost per request: `/health/live` and a cached analytics
route, with metrics on and off, measured with `wrk` in the same run.

Two `beatstream serve` processes (one worker each) run side by side on the running
stack, on one scratch index prefix, Redis key prefix and database: `METRICS_ENABLED`
true in one, false in the other (off: no middleware, no store-call timing). 2,000
songs go straight into Elasticsearch. Then `ROUNDS` rounds, each loading every
(path, variant) pair for `DURATION_S` with `wrk` (`CONNECTIONS` connections, one
thread), the variants' order alternating per round so drift on this shared machine
(other engineers' work, Elasticsearch merges) lands on both alike. The figure is the
median req/s over the rounds; overhead = 1 - on / off.

The cached route is `top-artists?country=IT&limit=10`, warmed first: as shipped, most
requests are per-process microcache replays and one a second a Redis hit, the
cheapest answers the API gives, so the metrics' share of them is the largest.

Needs `wrk` (`apt-get install -y wrk`). The load generator shares the cores with the
servers and the stores: compare the rows of one run, not with figures from elsewhere.
Because those figures are noisy here, the run also times the middleware alone, in
this process (`in_process`): a trivial ASGI app with and without it, microseconds per
request, which is what the metrics add to any request.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import shutil
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatstream.metrics.http import MetricsMiddleware
from bench import report
from bench.analytics_cache import _cleanup, _index, _rows
from bench.support.processes import process_env, served
from bench.support.stores import stack_settings

ROUNDS = 5
DURATION_S = 5
CONNECTIONS = 20
SONGS = 2_000
PATHS = {
    "/health/live": "/health/live",
    "top-artists, cached": "/v1/analytics/top-artists?country=IT&limit=10",
}
VARIANTS = ("metrics off", "metrics on")
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_P50 = re.compile(r"^\s+50%\s+([\d.]+)(us|ms|s)\b", re.MULTILINE)
_P99 = re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(pattern: re.Pattern[str], text: str) -> float:
    found = pattern.search(text)
    return float(found.group(1)) * _TO_MS[found.group(2)] if found else float("nan")


def wrk(url: str) -> dict[str, float]:
    """One `wrk` run: req/s, p50 and p99 in ms, non-2xx answers."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = _RPS.search(out)
    if rps is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    non_2xx = _NON_2XX.search(out)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": _ms(_P50, out),
        "p99_ms": _ms(_P99, out),
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
    }


@contextlib.contextmanager
def _servers(env: dict[str, str]) -> Iterator[dict[str, str]]:
    with (
        served({**env, "METRICS_ENABLED": "false"}) as off,
        served({**env, "METRICS_ENABLED": "true"}) as on,
    ):
        yield {"metrics off": off, "metrics on": on}


def _measure(bases: dict[str, str]) -> dict[tuple[str, str], list[dict[str, float]]]:
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for base in bases.values():  # warm each path (and the cache) before timing
        for path in PATHS.values():
            for _ in range(20):
                httpx.get(base + path, timeout=30).raise_for_status()
    for round_no in range(ROUNDS):
        order = VARIANTS if round_no % 2 == 0 else VARIANTS[::-1]
        for name, path in PATHS.items():
            for variant in order:
                runs.setdefault((name, variant), []).append(wrk(bases[variant] + path))
    return runs


def _table(runs: dict[tuple[str, str], list[dict[str, float]]]) -> list[dict[str, Any]]:
    table = []
    for name in PATHS:
        off_rps = statistics.median(r["rps"] for r in runs[(name, "metrics off")])
        for variant in VARIANTS:
            samples = runs[(name, variant)]
            rps = statistics.median(r["rps"] for r in samples)
            table.append(
                {
                    "path": name,
                    "variant": variant,
                    "median_req_per_s": round(rps, 1),
                    "rounds_req_per_s": " / ".join(f"{r['rps']:.0f}" for r in samples),
                    "median_p50_ms": round(statistics.median(r["p50_ms"] for r in samples), 2),
                    "median_p99_ms": round(statistics.median(r["p99_ms"] for r in samples), 2),
                    "non_2xx": int(sum(r["non_2xx"] for r in samples)),
                    "overhead_pct": round(100 * (1 - rps / off_rps), 1),
                }
            )
    return table


async def _asgi_loop(app: ASGIApp, calls: int) -> float:
    """Seconds for `calls` requests through `app`, no server or socket: the pure cost."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/v1/analytics/top-artists",
        "root_path": "",
        "headers": [],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(_message: Message) -> None:
        return None

    started = time.perf_counter()
    for _ in range(calls):
        await app(dict(scope), receive, send)
    return time.perf_counter() - started


def in_process_cost(calls: int = 200_000) -> dict[str, float]:
    """The middleware's own cost per request, in microseconds: a trivial ASGI app with
    and without it, in this process, best of three (the least disturbed by neighbours)."""

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    wrapped = MetricsMiddleware(inner, path="/metrics")
    bare = min(asyncio.run(_asgi_loop(inner, calls)) for _ in range(3))
    timed = min(asyncio.run(_asgi_loop(wrapped, calls)) for _ in range(3))
    return {
        "bare_us": round(1e6 * bare / calls, 2),
        "with_metrics_us": round(1e6 * timed / calls, 2),
        "metrics_cost_us": round(1e6 * (timed - bare) / calls, 2),
    }


def run() -> Path:
    if shutil.which("wrk") is None:
        raise SystemExit("metrics_overhead needs wrk: apt-get install -y wrk")
    base = stack_settings()
    scratch = uuid.uuid4().hex[:8]
    settings = base.model_copy(
        update={
            "elasticsearch": base.elasticsearch.model_copy(
                update={"index_prefix": f"bench-metrics-{scratch}"}
            ),
            "redis": base.redis.model_copy(update={"key_prefix": f"bench:metrics:{scratch}:"}),
        }
    )
    env = process_env(settings, ELASTICSEARCH_MANAGE_INDICES="true")
    try:
        with _servers(env) as bases:  # the first to start creates the scratch indices
            asyncio.run(_index(settings, _rows(random.Random(42))[:SONGS]))
            runs = _measure(bases)
    finally:
        asyncio.run(_cleanup(settings))
    table = _table(runs)
    result = {
        "in_process": in_process_cost(),
        "rounds": ROUNDS,
        "duration_s": DURATION_S,
        "connections": CONNECTIONS,
        "songs": SONGS,
        "rows": table,
    }
    return report.write("metrics_overhead", result, table)


if __name__ == "__main__":
    run()
