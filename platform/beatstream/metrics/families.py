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

# Seconds: 1 ms to 10 s, finer below 100 ms where most answers land.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

HTTP_REQUESTS = Counter(
    "beatstream_http_requests",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status_class"],
)
HTTP_DURATION = Histogram(
    "beatstream_http_request_duration_seconds",
    "Time from the request's arrival to its last body byte, by route template.",
    ["route", "method", "status_class"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "beatstream_http_requests_in_flight",
    "Requests being answered now.",
    multiprocess_mode="livesum",
)

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
