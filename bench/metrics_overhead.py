"""What the Prometheus metrics cost per request: `/health/live` and a cached analytics
route, with metrics on and off, measured with `wrk` in the same run.

Two `beatstream serve` processes (one worker each) run side by side on the running
stack, on one scratch index prefix, Redis key prefix and database: `METRICS_ENABLED`
true in one, false in the other (off: no middleware, no store-call timing). 2,000
songs go straight into Elasticsearch. Then `ROUNDS` rounds, each loading every
(path, variant) pair for `DURATION_S` with `wrk` (`CONNECTIONS` connections, one
thread), the variants' order alternating per round so drift on this shared machine
(other engineers' work, Elasticsearch merges) lands on both alike. Each round's on/off
pair gives that round's overhead, by req/s (1 - on/off) and by the server process's
CPU time per request (on/off - 1, from /proc: what the metrics cost the server,
whatever wrk and the neighbours got of the cores meanwhile); the figure is the median
over rounds. A run with any non-2xx answer or socket error is refused.

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
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatstream.app import create_app
from beatstream.metrics.http import HttpMetrics
from beatstream.middleware import RequestIdMiddleware
from bench import report
from bench.analytics_cache import _cleanup, _index
from bench.analytics_cache import _rows as song_rows
from bench.support.processes import cpu_seconds, process_env, serving
from bench.support.stores import scratch_settings, stack_settings
from bench.support.wrk import WrkResult, require_wrk, run_wrk

ROUNDS = 8
DURATION_S = 5
CONNECTIONS = 20
SONGS = 2_000
PATHS = {
    "/health/live": "/health/live",
    "top-artists, cached": "/v1/analytics/top-artists?country=IT&limit=10",
}
VARIANTS = ("metrics off", "metrics on")
TARGET_PCT = 10.0


@dataclass(frozen=True)
class Sample:
    """One `wrk` run against one server, and the server's CPU time during it."""

    result: WrkResult
    cpu_us_per_req: float


@contextlib.contextmanager
def _servers(env: dict[str, str]) -> Iterator[dict[str, tuple[str, int]]]:
    args = ["beatstream", "serve", "--workers", "1"]
    with (
        serving(args, {**env, "METRICS_ENABLED": "false"}) as off,
        serving(args, {**env, "METRICS_ENABLED": "true"}) as on,
    ):
        yield {"metrics off": off, "metrics on": on}


def _sample(url: str, pid: int) -> Sample:
    before = cpu_seconds(pid)
    result = run_wrk(url, connections=CONNECTIONS, duration_s=DURATION_S)
    used = cpu_seconds(pid) - before
    if result.errors:
        raise RuntimeError(f"{url}: {result.errors} errors under load; not reporting it")
    return Sample(result, 1e6 * used / max(result.requests, 1))


def _measure(servers: dict[str, tuple[str, int]]) -> dict[tuple[str, str], list[Sample]]:
    """`ROUNDS` rounds; in each, every path runs on both servers back to back (the
    order alternating per round), so a round's on/off pair shares the machine's mood."""
    runs: dict[tuple[str, str], list[Sample]] = {}
    for base, _pid in servers.values():  # warm each path (and the cache) before timing
        for path in PATHS.values():
            for _ in range(20):
                httpx.get(base + path, timeout=30).raise_for_status()
    for round_no in range(ROUNDS):
        order = VARIANTS if round_no % 2 == 0 else VARIANTS[::-1]
        for name, path in PATHS.items():
            for variant in order:
                base, pid = servers[variant]
                runs.setdefault((name, variant), []).append(_sample(base + path, pid))
    return runs


def _paired_pct(runs: dict[tuple[str, str], list[Sample]], name: str, cpu: bool) -> float:
    """The median over rounds of each round's own overhead: by req/s (1 - on/off) or
    by server CPU per request (on/off - 1)."""
    pairs = zip(runs[(name, "metrics off")], runs[(name, "metrics on")], strict=True)
    if cpu:
        values = [on.cpu_us_per_req / off.cpu_us_per_req - 1 for off, on in pairs]
    else:
        values = [1 - on.result.requests_per_s / off.result.requests_per_s for off, on in pairs]
    return round(100 * statistics.median(values), 1)


def _rows(runs: dict[tuple[str, str], list[Sample]]) -> list[dict[str, Any]]:
    table = []
    for name in PATHS:
        for variant in VARIANTS:
            samples = runs[(name, variant)]
            table.append(
                {
                    "path": name,
                    "variant": variant,
                    "median_req_per_s": round(
                        statistics.median(s.result.requests_per_s for s in samples)
                    ),
                    "rounds_req_per_s": " / ".join(
                        f"{s.result.requests_per_s:.0f}" for s in samples
                    ),
                    "median_cpu_us_per_req": round(
                        statistics.median(s.cpu_us_per_req for s in samples), 1
                    ),
                    "median_p50_ms": round(statistics.median(s.result.p50_ms for s in samples), 2),
                    "median_p99_ms": round(statistics.median(s.result.p99_ms for s in samples), 2),
                }
            )
    return table


def _overheads(runs: dict[tuple[str, str], list[Sample]]) -> list[dict[str, Any]]:
    rows = []
    for name in PATHS:
        by_rps, by_cpu = _paired_pct(runs, name, cpu=False), _paired_pct(runs, name, cpu=True)
        rows.append(
            {
                "path": name,
                "overhead_pct_req_per_s": by_rps,
                "overhead_pct_cpu_per_req": by_cpu,
                "target_pct": f"< {TARGET_PCT:g}",
                "met": "yes" if max(by_rps, by_cpu) < TARGET_PCT else "no",
            }
        )
    return rows


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
    require_wrk()
    settings = scratch_settings("metrics")
    env = process_env(settings, ELASTICSEARCH_MANAGE_INDICES="true")
    try:
        with _servers(env) as servers:  # the first to start creates the scratch indices
            asyncio.run(_index(settings, song_rows(random.Random(42))[:SONGS]))
            runs = _measure(servers)
    finally:
        asyncio.run(_cleanup(settings))
    rows, overheads = _rows(runs), _overheads(runs)
    result = {
        "in_process": in_process_cost(),
        "rounds": ROUNDS,
        "duration_s": DURATION_S,
        "connections": CONNECTIONS,
        "songs": SONGS,
        "rows": rows,
        "overheads": overheads,
    }
    path = report.write("metrics_overhead", result, rows)
    report.append_table(
        path,
        "Overhead: the median over rounds of each round's own on/off pair, by req/s"
        " (1 - on/off) and by the server's CPU per request (on/off - 1).",
        overheads,
    )
    return path


if __name__ == "__main__":
    if "--in-process" in sys.argv:
        print(json.dumps(in_process_cost()))
    else:
        run()
