"""The HTTP request metrics' per-request bookkeeping, in plain Python, exported later.

prometheus-client takes a lock and searches the buckets on every `inc` and `observe`;
on the cheapest answers (tens of µs) that was a measurable share of the request. So a
request only adds to plain counts owned by its process (`Series`: a count per bucket,
found by `bisect`, and the sum), and `HttpTally.flush` hands the new counts to the
prometheus-client families (`HTTP_REQUESTS`, `HTTP_DURATION`, `HTTP_IN_FLIGHT`), whose
values and exposition are unchanged:

- one process: `TallyCollector`, registered in place of those families, flushes on
  every scrape, so a scrape sees every request answered before it;
- several workers (`PROMETHEUS_MULTIPROC_DIR`): the other workers read this one's
  files, so a daemon thread flushes every `FLUSH_INTERVAL_S` and at exit (and
  `registry.process_exited` flushes at shutdown). A scrape may miss up to that
  interval of another worker's requests, and its in-flight gauge is as old.

Only the event loop's thread writes the counts (`Series.observe`, `in_flight`); a
flush only reads them and remembers what it has handed over, so it needs no lock on
the request path. A count it reads mid-update is handed over at the next flush.
"""

from __future__ import annotations

import atexit
import os
import threading
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.registry import Collector

# Seconds: 1 ms to 10 s, finer below 100 ms where most answers land.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Not registered themselves: `TallyCollector` exports them, after a flush.
HTTP_REQUESTS = Counter(
    "beatstream_http_requests",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status_class"],
    registry=None,
)
HTTP_DURATION = Histogram(
    "beatstream_http_request_duration_seconds",
    "Time from the request's arrival to its last body byte, by route template.",
    ["route", "method", "status_class"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
HTTP_IN_FLIGHT = Gauge(
    "beatstream_http_requests_in_flight",
    "Requests being answered now.",
    multiprocess_mode="livesum",
    registry=None,
)
FLUSH_INTERVAL_S = 1.0


class Series:
    """One (route, method, status class) series: what it counted, what was handed over."""

    __slots__ = ("_duration", "_flushed", "_flushed_sum", "_requests", "buckets", "sum")

    def __init__(self, labels: tuple[str, str, str]) -> None:
        # The children are made here, once per series, so their `_created` time is the
        # first request's.
        self._requests: Any = HTTP_REQUESTS.labels(*labels)
        self._duration: Any = HTTP_DURATION.labels(*labels)
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.sum = 0.0
        self._flushed = [0] * len(self.buckets)
        self._flushed_sum = 0.0

    def observe(self, seconds: float) -> None:
        """One request: its bucket (the first bound >= seconds, as `le` means) and sum."""
        self.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.sum += seconds

    def flush(self) -> None:
        """Add what was counted since the last flush to the prometheus-client children
        (the histogram's per-bucket values are not cumulative; it sums them on export)."""
        buckets, total = self.buckets[:], self.sum
        new = sum(buckets) - sum(self._flushed)
        if new:
            self._requests.inc(new)
            for index, (now, before) in enumerate(zip(buckets, self._flushed, strict=True)):
                if now != before:
                    self._duration._buckets[index].inc(now - before)
            self._duration._sum.inc(total - self._flushed_sum)
        self._flushed, self._flushed_sum = buckets, total

    def forget_unflushed(self) -> None:
        """In a forked child: what the parent counted is the parent's to hand over."""
        self._flushed, self._flushed_sum = self.buckets[:], self.sum


class HttpTally:
    """This process's HTTP series and in-flight count, and their flushing."""

    def __init__(self) -> None:
        self.series: dict[tuple[str, str, str], Series] = {}
        self.in_flight = 0
        self._lock = threading.Lock()  # flushes only: a scrape, the timer, exit
        self._stop: threading.Event | None = None
        os.register_at_fork(after_in_child=self._after_fork)

    def series_for(self, labels: tuple[str, str, str]) -> Series:
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = Series(labels)
        return series

    def flush(self) -> None:
        with self._lock:
            HTTP_IN_FLIGHT.set(self.in_flight)
            # `list` copies the values in one step: the loop thread may add a series.
            for series in list(self.series.values()):
                series.flush()

    def flush_periodically(self, interval_s: float = FLUSH_INTERVAL_S) -> None:
        """Flush every `interval_s` on a daemon thread, and at exit; once per process."""
        if self._stop is not None:
            return
        stop = self._stop = threading.Event()

        def run() -> None:
            while not stop.wait(interval_s):
                self.flush()

        threading.Thread(target=run, name="http-metrics-flush", daemon=True).start()
        atexit.register(self.flush)

    def _after_fork(self) -> None:
        """A forked child has no flushing thread and owes none of the parent's counts."""
        self._lock = threading.Lock()
        for series in self.series.values():
            series.forget_unflushed()
        if self._stop is not None:
            self._stop = None
            self.flush_periodically()


class TallyCollector(Collector):
    """Stands in the default registry for the HTTP families: flushes, then lets them
    export themselves. Describing them keeps the registry's duplicate-name check."""

    def __init__(self, tally: HttpTally) -> None:
        self._tally = tally
        self._families = (HTTP_REQUESTS, HTTP_DURATION, HTTP_IN_FLIGHT)

    def describe(self) -> Iterable[Any]:
        for family in self._families:
            yield from family.describe()

    def collect(self) -> Iterable[Any]:
        self._tally.flush()
        for family in self._families:
            yield from family.collect()


HTTP_TALLY = HttpTally()
REGISTRY.register(TallyCollector(HTTP_TALLY))
