"""The sync's metrics, served on its own port (`beatstream sync --metrics-port`,
`METRICS_SYNC_PORT`): a separate process from the API, scraped as its own target.

Lag is a *freshness* measure, computed at scrape time: the seconds since the sync was
last known to have applied everything up to a moment, that moment being the newest
applied change's commit time after a batch, or "now" after a read that found nothing.
Caught up and idle, it stays below `idle_wait_s`; busy, it is the age of the change
just applied; stuck (a store down, a crash loop) it grows without bound, which is what
an alert wants, where "the last batch's lag" would freeze at its last value.

Checkpoint age is the seconds since a checkpoint was last saved. Change streams save
one on every read, busy or not; polling saves only when something was applied, so
there it also grows while there is nothing to do (alert on lag, not on it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MODES = ("change_stream", "polling")

APPLIED = Counter(
    "beatstream_sync_applied", "Changes applied to Elasticsearch, by source.", ["source"]
)
BATCH_SIZE = Histogram(
    "beatstream_sync_batch_size",
    "Changes written per bulk batch.",
    ["source"],
    buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000),
)
BATCH_DURATION = Histogram(
    "beatstream_sync_batch_duration_seconds",
    "Time to write one batch (bulk request, dead letters, cache invalidation).",
    ["source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DEAD_LETTERS = Counter(
    "beatstream_sync_dead_letters",
    "Documents the sync could not apply and dead-lettered, by source and pipeline.",
    ["source", "pipeline"],
)
RETRIES = Counter(
    "beatstream_sync_retries",
    "Times the sync paused on a store failure and retried with backoff.",
    ["source"],
)
MODE = Gauge(
    "beatstream_sync_mode",
    "1 for how the source's changes are read (change_stream or polling), else 0.",
    ["source", "mode"],
)


class _Freshness(Collector):
    """Lag and checkpoint age, computed when scraped from the moments recorded below."""

    def __init__(self) -> None:
        self.fresh_at: dict[str, float] = {}
        self.saved_at: dict[str, float] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.time()
        lag = GaugeMetricFamily(
            "beatstream_sync_lag_seconds",
            "Seconds since the sync was last known to be up to date (module docstring).",
            labels=["source"],
        )
        for source, at in self.fresh_at.items():
            lag.add_metric([source], max(0.0, now - at))
        age = GaugeMetricFamily(
            "beatstream_sync_checkpoint_age_seconds",
            "Seconds since the source's checkpoint was last saved.",
            labels=["source"],
        )
        for source, at in self.saved_at.items():
            age.add_metric([source], max(0.0, now - at))
        yield lag
        yield age


FRESHNESS = _Freshness()
REGISTRY.register(FRESHNESS)


def mode_chosen(source: str, mode: str) -> None:
    for known in MODES:
        MODE.labels(source, known).set(1 if known == mode else 0)


def caught_up(source: str) -> None:
    """A read found nothing left to apply: up to date as of now."""
    FRESHNESS.fresh_at[source] = time.time()


def applied(source: str, count: int, newest: datetime | None) -> None:
    """`count` changes applied, the newest committed at `newest` (None: unknown, so now)."""
    APPLIED.labels(source).inc(count)
    moment = newest.timestamp() if newest is not None else time.time()
    FRESHNESS.fresh_at[source] = max(FRESHNESS.fresh_at.get(source, 0.0), moment)


def checkpoint_saved(source: str) -> None:
    FRESHNESS.saved_at[source] = time.time()


def retried(source: str) -> None:
    RETRIES.labels(source).inc()


def dead_lettered(source: str, pipeline: str, count: int) -> None:
    if count:
        DEAD_LETTERS.labels(source, pipeline).inc(count)


@contextmanager
def batch(source: str, size: int) -> Iterator[None]:
    """Time one batch write of `size` changes."""
    start = time.perf_counter()
    try:
        yield
    finally:
        BATCH_SIZE.labels(source).observe(size)
        BATCH_DURATION.labels(source).observe(time.perf_counter() - start)


def serve(port: int, host: str) -> WSGIServer:
    """Serve this process's metrics (the sync's and its store calls') on `host:port`,
    from a daemon thread; the server, to shut down (tests)."""
    server, _ = start_http_server(port, host)
    return server
