"""Under several workers (`PROMETHEUS_MULTIPROC_DIR`), another process's scrape sees a
worker's requests and in-flight count: handed over by its flushing thread while it
runs, and at its exit. The worker is a child process (prometheus-client picks
file-backed values at import); this process reads the directory as any worker's
`/metrics` does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest, multiprocess

from tests.beatstream.metrics.scrape import Samples, parse

REQUESTS = 7
LABELS = frozenset({"route": "unmatched", "method": "GET", "status_class": "2xx"}.items())
COUNT = ("beatstream_http_requests_total", LABELS)
INF = (
    "beatstream_http_request_duration_seconds_bucket",
    LABELS | {("le", "+Inf")},
)
IN_FLIGHT = ("beatstream_http_requests_in_flight", frozenset())

# A worker: REQUESTS answered requests, then one held in flight until a line on stdin.
WORKER = """
import asyncio, sys
from beatstream.metrics.tally import HTTP_TALLY
if sys.argv[1]:  # another interval than the one HttpMetrics asks for
    HTTP_TALLY.flush_periodically(float(sys.argv[1]))
from beatstream.metrics.http import HttpMetrics
from beatstream.middleware import RequestIdMiddleware

async def app(scope, receive, send):
    if scope["path"] == "/hold":
        print("holding", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})

async def main():
    middleware = RequestIdMiddleware(app, metrics=HttpMetrics())
    async def receive():
        return {"type": "http.request", "body": b""}
    async def send(message):
        pass
    for path in ["/answer"] * int(sys.argv[2]) + ["/hold"]:
        scope = {"type": "http", "method": "GET", "path": path, "headers": []}
        await middleware(scope, receive, send)

asyncio.run(main())
if sys.argv[3] == "shutdown":  # the app's lifespan end, then no exit handlers at all
    import os
    from beatstream.metrics.registry import process_exited
    process_exited(os.getpid())
    os._exit(0)
"""


def worker(
    directory: Path, interval_s: float | None = None, end: str = "exit"
) -> subprocess.Popen[str]:
    interval = "" if interval_s is None else str(interval_s)
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, interval, str(REQUESTS), end],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def scrape(directory: Path) -> Samples:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return parse(generate_latest(registry).decode())


def wait_for(
    directory: Path, wanted: dict[tuple[str, frozenset[tuple[str, str]]], float]
) -> Samples:
    """Scrape until `wanted` shows (a handshake with the worker's thread, not a timing:
    the bound only keeps a broken flush from hanging the suite)."""
    deadline = time.monotonic() + 60
    while True:
        samples = scrape(directory)
        if all(samples.get(key) == value for key, value in wanted.items()):
            return samples
        assert time.monotonic() < deadline, f"never flushed: {[samples.get(key) for key in wanted]}"
        time.sleep(0.02)


def test_a_running_workers_counts_and_in_flight_reach_another_processs_scrape(
    tmp_path: Path,
) -> None:
    process = worker(tmp_path)  # flushing as the app makes it: every second
    try:
        assert process.stdout is not None
        assert process.stdin is not None
        assert process.stdout.readline() == "holding\n"
        wait_for(tmp_path, {COUNT: REQUESTS, INF: REQUESTS, IN_FLIGHT: 1})
        process.stdin.write("go\n")
        process.stdin.flush()
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()

    after = scrape(tmp_path)
    assert after[COUNT] == REQUESTS + 1
    assert after[IN_FLIGHT] == 0


@pytest.mark.parametrize("end", ["exit", "shutdown"])
def test_a_stopping_worker_hands_over_what_its_thread_had_not(tmp_path: Path, end: str) -> None:
    """At exit, or at the lifespan's end (`process_exited`, which also drops the
    worker's in-flight gauge file, so a dead worker's gauge is not summed)."""
    process = worker(tmp_path, interval_s=3600, end=end)  # the thread never gets to flush
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "holding\n"
        output, _ = process.communicate("go\n", timeout=60)
        assert process.returncode == 0, output
    finally:
        process.kill()

    after = scrape(tmp_path)
    assert after[COUNT] == REQUESTS + 1
    assert after[INF] == REQUESTS + 1
    assert after.get(IN_FLIGHT, 0) == 0
    assert any(tmp_path.glob("gauge_livesum_*")) is (end == "exit")
