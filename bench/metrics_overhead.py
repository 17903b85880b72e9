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
Because those figures are noisy here, the run also times the outermost middleware
alone, in this process (`in_process`): over a trivial ASGI app, with metrics off and
on, microseconds per request; the difference is what the metrics add to any request.
`uv run python -m bench.metrics_overhead --in-process` runs only that (no servers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatstream.app import create_app
from beatstream.metrics.http import HttpMetrics
from beatstream.middleware import RequestIdMiddleware
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


_HEADERS = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]


async def _asgi_loop(app: ASGIApp, scope: Scope, calls: int) -> float:
    """Seconds for `calls` requests through `app`, no server or socket: the pure cost."""

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(_message: Message) -> None:
        return None

    started = time.perf_counter()
    for _ in range(calls):
        await app(dict(scope), receive, send)
    return time.perf_counter() - started


def in_process_cost(calls: int = 50_000, repeats: int = 7) -> dict[str, float]:
    """What the metrics add to a request, in microseconds, in this process: the
    outermost middleware over a trivial app, as each server runs it (metrics off: the
    request id only; on: the request id and the metrics), best of `repeats` runs each,
    interleaved (the least disturbed by neighbours). The scope carries a real app's
    routes, and a path answered before routing (as `/health/live` and a microcache
    replay are), so the route template is found as in the server."""

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})

    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/health/live",
        "root_path": "",
        "headers": _HEADERS,
        "app": create_app(stack_settings()),  # only its routes are read; never started
    }
    stacks: dict[str, ASGIApp] = {
        "bare": inner,
        "off": RequestIdMiddleware(inner),
        "on": RequestIdMiddleware(inner, metrics=HttpMetrics(path="/metrics")),
    }
    best = dict.fromkeys(stacks, float("inf"))
    for _ in range(repeats):
        for name, app in stacks.items():
            best[name] = min(best[name], asyncio.run(_asgi_loop(app, scope, calls)))
    per_call = {name: 1e6 * seconds / calls for name, seconds in best.items()}
    return {
        "bare_us": round(per_call["bare"], 2),
        "metrics_off_us": round(per_call["off"], 2),
        "metrics_on_us": round(per_call["on"], 2),
        "metrics_cost_us": round(per_call["on"] - per_call["off"], 2),
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
    if "--in-process" in sys.argv:
        print(json.dumps(in_process_cost()))
    else:
        run()
