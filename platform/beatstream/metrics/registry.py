"""Which registry `/metrics` reads, and the several-workers (multiprocess) mode.

With one process, metrics live in its memory (prometheus-client's default registry).
With several workers, a scrape reaches one of them at random, so each must write its
values to files in `PROMETHEUS_MULTIPROC_DIR` and any of them sums the files on a
scrape. prometheus-client picks file-backed values when it is first imported, so the
variable must be set before a worker starts: `beatstream serve --workers N` does it
(`multiprocess_dir`), and removes the directory it made at exit.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from beatstream.metrics.tally import HTTP_TALLY

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def registry() -> CollectorRegistry:
    """The default registry, or under several workers one that sums every worker's files
    (built per scrape, as prometheus-client requires: the files change)."""
    if not multiprocess_enabled():
        return REGISTRY
    collecting = CollectorRegistry()
    multiprocess.MultiProcessCollector(collecting)  # type: ignore[no-untyped-call]
    return collecting


def exposition() -> tuple[bytes, str]:
    """The text format body and its content type."""
    return generate_latest(registry()), CONTENT_TYPE_LATEST


@contextmanager
def multiprocess_dir() -> Iterator[str | None]:
    """Set `PROMETHEUS_MULTIPROC_DIR` to a fresh directory for the workers to come and
    remove it afterwards. One the operator set is used as it is and left in place (they
    must empty it before each start: stale files of dead processes would be summed)."""
    if multiprocess_enabled():
        yield os.environ[MULTIPROC_ENV]
        return
    made = tempfile.mkdtemp(prefix="beatstream-metrics-")
    os.environ[MULTIPROC_ENV] = made
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)


def process_exited(pid: int) -> None:
    """Hand over this worker's last HTTP counts (`tally`), then drop a finished worker's
    live gauges (in-flight requests, store up), so they are not summed after it is gone;
    counters and histograms keep their totals."""
    if multiprocess_enabled():
        HTTP_TALLY.flush()
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
