"""Measuring: per-call timings, their summary, and a run of concurrent keep-alive GETs."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx


async def time_each(
    fn: Callable[[], Awaitable[object]], repeat: int, warmup: int = 5
) -> list[float]:
    """Milliseconds per call, `repeat` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        await fn()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 3),
    }


@dataclass
class LoadRun:
    latencies_ms: list[float]
    failures: int
    wall_s: float
    x_cache: Counter[str]

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies_ms) / self.wall_s


async def concurrent_gets(
    base_url: str, paths: list[str], *, clients: int = 50, warmup: list[str] | None = None
) -> LoadRun:
    """`clients` concurrent keep-alive clients working through `paths` once, in order.

    A transport error counts as a failure (and is printed) rather than ending the run.
    """
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        for path in warmup or []:
            (await http.get(path)).raise_for_status()
        run = LoadRun([], 0, 0.0, Counter())
        queue = list(reversed(paths))

        async def client() -> None:
            while queue:
                path = queue.pop()
                started = time.perf_counter()
                try:
                    response = await http.get(path)
                except httpx.TransportError as exc:
                    run.failures += 1
                    print(f"transport error on {path}: {exc!r}")
                    continue
                run.latencies_ms.append((time.perf_counter() - started) * 1000)
                run.failures += response.status_code != 200
                run.x_cache[response.headers.get("x-cache", "-")] += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        run.wall_s = time.perf_counter() - started
        return run
