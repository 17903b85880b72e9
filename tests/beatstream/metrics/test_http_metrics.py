"""`/metrics` after a known sequence of requests: counts per route template, method and
status class; cache results; store latency; never limited, never in the OpenAPI."""

from __future__ import annotations

import random

import pytest
from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from fastapi import FastAPI

from beatstream.app import create_app
from beatstream.search.indices import ensure_search_indices
from beatstream.settings import Settings
from tests.beatstream.analytics.data import build_songs, index_songs
from tests.beatstream.metrics.scrape import delta, scrape, series
from tests.fixtures.app import http_client, serving

REQUESTS = "beatstream_http_requests_total"


def tuned(settings: Settings, **ratelimit: object) -> Settings:
    """No microcache (every repeat reaches the Redis cache) and the given rate limits."""
    return settings.model_copy(
        update={
            "api": settings.api.model_copy(update={"microcache_ttl_s": 0}),
            "ratelimit": settings.ratelimit.model_copy(update=ratelimit),
        }
    )


@pytest.fixture
def metrics_app(settings: Settings, mongo_db: object, es_prefix: str, redis_prefix: str) -> FastAPI:
    return create_app(tuned(settings))


async def test_requests_are_counted_per_route_template_and_status_class(
    metrics_app: FastAPI,
) -> None:
    async with serving(metrics_app) as transport, http_client(transport) as http:
        before = await scrape(http)
        for _ in range(3):
            assert (await http.get("/health/live")).status_code == 200
        for song_id in (ObjectId(), ObjectId()):  # two ids, one series
            assert (await http.get(f"/v1/songs/{song_id}")).status_code == 404
        # Answered before routing (methods middleware): still its route's template.
        assert (await http.patch("/v1/songs/by-artist")).status_code == 405
        assert (await http.get("/no/such/path/123")).status_code == 404
        after = await scrape(http)

    def counted(route: str, method: str, status_class: str) -> float:
        return delta(after, before, REQUESTS, route=route, method=method, status_class=status_class)

    assert counted("/health/live", "GET", "2xx") == 3
    assert counted("/v1/songs/{song_id}", "GET", "4xx") == 2
    assert counted("/v1/songs/by-artist", "PATCH", "4xx") == 1
    assert counted("unmatched", "GET", "4xx") == 1
    assert (
        delta(
            after,
            before,
            "beatstream_http_request_duration_seconds_count",
            route="/v1/songs/{song_id}",
            method="GET",
            status_class="4xx",
        )
        == 2
    )
    # The latency histogram counts the same requests; its buckets and sum, against
    # prometheus-client's own histogram under a clock the test sets, are checked in
    # test_tally.py (here the real clock would decide which bucket a request lands in).
    assert (
        delta(
            after,
            before,
            "beatstream_http_request_duration_seconds_count",
            route="/health/live",
            method="GET",
            status_class="2xx",
        )
        == 3
    )
    # No raw path ever becomes a label, and the scrapes count nowhere.
    routes = {labels["route"] for labels in series(after, REQUESTS)}
    assert not any("123" in route or len(route) == 24 + 10 for route in routes)
    assert "/metrics" not in routes
    assert after[("beatstream_http_requests_in_flight", frozenset())] == 0


async def test_metrics_are_neither_limited_nor_documented(
    settings: Settings, mongo_db: object, es_prefix: str, redis_prefix: str
) -> None:
    app = create_app(tuned(settings, anonymous_limit=2))
    async with serving(app) as transport, http_client(transport) as http:
        before = await scrape(http)
        statuses = [(await http.get("/v1/artists")).status_code for _ in range(3)]
        scrapes = [(await http.get("/metrics")).status_code for _ in range(5)]
        after = await scrape(http)
        spec = (await http.get("/openapi.json")).json()

    assert statuses == [200, 200, 429]
    assert scrapes == [200] * 5
    assert delta(after, before, "beatstream_ratelimit_rejections_total", bucket="ip") == 1
    refused = delta(after, before, REQUESTS, route="/v1/artists", method="GET", status_class="4xx")
    assert refused == 1
    assert "/metrics" not in spec["paths"]


async def test_cache_results_and_store_latency_are_recorded(
    settings: Settings,
    es_client: AsyncElasticsearch,
    mongo_db: object,
    es_prefix: str,
    redis_prefix: str,
    test_id: str,
) -> None:
    await ensure_search_indices(es_client, settings.elasticsearch)
    await index_songs(es_client, es_prefix, build_songs(random.Random(test_id)))
    app = create_app(tuned(settings))
    async with serving(app) as transport, http_client(transport) as http:
        before = await scrape(http)
        path = "/v1/analytics/top-artists?country=IT"
        caches = [(await http.get(path)).headers["x-cache"] for _ in range(3)]
        assert (await http.get("/v1/artists")).status_code == 200
        after = await scrape(http)

    assert caches == ["miss", "hit", "hit"]
    cache = "beatstream_cache_requests_total"
    assert delta(after, before, cache, namespace="songs", result="miss") == 1
    assert delta(after, before, cache, namespace="songs", result="hit") == 2
    assert delta(after, before, cache, namespace="songs", result="bypass") == 0
    count = "beatstream_store_call_duration_seconds_count"
    # One aggregation for the miss; the cache's reads and writes; the artists page.
    assert delta(after, before, count, store="elasticsearch", operation="search") == 1
    assert delta(after, before, count, store="redis", operation="GET") >= 3
    assert delta(after, before, count, store="mongodb", operation="find") >= 1
