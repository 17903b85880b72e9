"""Every metric the API process exports, defined once at import.

Labels are bounded by construction: a route *template* (never the raw path), a
method, a status class, a cache namespace, a store operation name our code chooses.
An unbounded label (an id, a path, a key) would create one series per value and
exhaust Prometheus; reviewers should refuse one.

Under several workers (`PROMETHEUS_MULTIPROC_DIR` set, see `registry`) each process
writes its own values to files there and `/metrics` sums them; a gauge declares how
(`multiprocess_mode`).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# The HTTP request families are defined with their per-request bookkeeping, which
# exports them (`tally`); named here too, with every other family.
from beatstream.metrics.tally import HTTP_DURATION as HTTP_DURATION
from beatstream.metrics.tally import HTTP_IN_FLIGHT as HTTP_IN_FLIGHT
from beatstream.metrics.tally import HTTP_REQUESTS as HTTP_REQUESTS

STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

CACHE_REQUESTS = Counter(
    "beatstream_cache_requests",
    "Response-cache lookups by namespace and result (hit, miss, bypass: Redis failed).",
    ["namespace", "result"],
)
CACHE_STAMPEDE_WAITS = Counter(
    "beatstream_cache_stampede_waits",
    "Callers that waited for another's compute of a cold key: in this process (joined"
    " its flight) or in another (waited on its Redis lock).",
    ["namespace", "where"],
)
MICROCACHE_HITS = Counter(
    "beatstream_microcache_hits",
    "Cached answers replayed from the per-process microcache, before routing.",
)

STORE_DURATION = Histogram(
    "beatstream_store_call_duration_seconds",
    "Latency of calls to MongoDB (per command), Elasticsearch (per API) and Redis (per command).",
    ["store", "operation"],
    buckets=STORE_BUCKETS,
)
STORE_ERRORS = Counter(
    "beatstream_store_call_errors",
    "Store calls that failed: a command error or a connection failure, an"
    " Elasticsearch 5xx; not an expected 404 or conflict.",
    ["store", "operation"],
)
STORE_UP = Gauge(
    "beatstream_store_up",
    "1 when the last readiness check reached the store, else 0 (set by /health/ready).",
    ["store"],
    multiprocess_mode="livemin",
)

RATELIMIT_REJECTIONS = Counter(
    "beatstream_ratelimit_rejections",
    "Requests refused with 429, by bucket kind (ip, user, key).",
    ["bucket"],
)

PARTNER_PULLS = Counter(
    "beatstream_partner_pulls",
    "Audited partner pulls (a view page, a feed page or an export), by view and format.",
    ["view", "format"],
)
PARTNER_ROWS = Counter(
    "beatstream_partner_rows_exported",
    "Rows handed to partners, by view and format.",
    ["view", "format"],
)
