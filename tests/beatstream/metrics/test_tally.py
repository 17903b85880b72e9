"""The per-request tally (beatstream.metrics.tally): what a scrape shows is exactly what
prometheus-client's own histogram would show for the same requests, through the
request-id middleware with a known clock; flushing never counts twice; the in-flight
gauge is current at a scrape; the middleware adds its header without touching the
app's list."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from starlette.types import Message, Receive, Scope, Send

import beatstream.middleware
from beatstream.metrics import http as metrics_http
from beatstream.metrics.http import HttpMetrics
from beatstream.metrics.tally import LATENCY_BUCKETS, Series
from beatstream.middleware import RequestIdMiddleware
from tests.beatstream.metrics.scrape import Samples, parse

DURATION = "beatstream_http_request_duration_seconds"
# On a bound (`le` includes it), between two, below the first, past the last (+Inf).
ELAPSED = (0.001, 0.003, 0.0002, 0.003, 42.0)


def scraped() -> Samples:
    return parse(generate_latest(REGISTRY).decode())


def reference(values: tuple[float, ...]) -> Samples:
    """prometheus-client's own histogram, fed the same values one `observe` each."""
    registry = CollectorRegistry()
    histogram = Histogram(
        DURATION, "reference", ["route"], buckets=LATENCY_BUCKETS, registry=registry
    )
    for value in values:
        histogram.labels("r").observe(value)
    return parse(generate_latest(registry).decode())


def histogram_of(samples: Samples, **labels: str) -> dict[tuple[str, str], float]:
    """`DURATION`'s samples for the given labels, by (sample name, `le`)."""
    wanted = set(labels.items())
    return {
        (name, dict(key).get("le", "")): value
        for (name, key), value in samples.items()
        if name.startswith(DURATION) and not name.endswith("_created") and wanted <= key
    }


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The middleware's clock reads from this list (start, end, start, end, ...)."""
    readings: list[float] = []
    clock = SimpleNamespace(perf_counter=lambda: readings.pop(0))
    monkeypatch.setattr(beatstream.middleware, "time", clock)
    monkeypatch.setattr(metrics_http, "time", clock)
    yield readings
    assert readings == []  # every reading was taken: one start and one end per request


def assert_counted(
    after: Samples, before: Samples, values: tuple[float, ...], **labels: str
) -> None:
    """`after` - `before` is the reference histogram of `values`, bucket by bucket, and
    the requests counter is their number."""
    expected = histogram_of(reference(values), route="r")
    assert len(expected) == len(LATENCY_BUCKETS) + 3  # buckets, +Inf, count, sum
    now, then = histogram_of(after, **labels), histogram_of(before, **labels)
    for key, value in expected.items():
        assert now[key] - then.get(key, 0.0) == pytest.approx(value), key
    requests = ("beatstream_http_requests_total", frozenset(labels.items()))
    assert after[requests] - before.get(requests, 0.0) == len(values)


async def call(
    app: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None, routes: Any = None
) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "headers": headers or [],
    }
    if routes is not None:
        scope["app"] = routes
    await app(scope, receive, send)
    return sent


def one_route(template: str) -> FastAPI:
    """An app whose only route is `template`, for the route table (never called)."""
    app = FastAPI()
    app.get(template)(lambda: None)
    return app


def answering(status: int, headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers or []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def test_a_scrape_shows_what_prometheus_client_would_for_the_same_requests(
    fake_clock: list[float],
) -> None:
    template = f"/_test/tally/{uuid.uuid4().hex}/{{item}}"
    routes = one_route(template)
    for elapsed in ELAPSED:
        fake_clock += [0.0, elapsed]  # exact differences: a bound stays a bound
    middleware = RequestIdMiddleware(answering(201), metrics=HttpMetrics())
    before = scraped()
    for n, _ in enumerate(ELAPSED):
        await call(middleware, template.replace("{item}", str(n)), routes=routes)

    assert_counted(scraped(), before, ELAPSED, route=template, method="GET", status_class="2xx")


async def test_flushing_again_adds_only_what_was_counted_since() -> None:
    labels = {"route": f"/_test/tally/{uuid.uuid4().hex}", "method": "GET", "status_class": "2xx"}
    series = Series((labels["route"], "GET", "2xx"))
    for value in ELAPSED[:2]:
        series.observe(value)
    series.flush()
    series.flush()  # nothing new: nothing added
    for value in ELAPSED[2:]:
        series.observe(value)
    series.flush()

    assert_counted(scraped(), {}, ELAPSED, **labels)


async def test_the_in_flight_gauge_is_current_at_a_scrape() -> None:
    seen: list[float] = []

    async def scraping(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scraped()[("beatstream_http_requests_in_flight", frozenset())])
        await answering(200)(scope, receive, send)

    middleware = RequestIdMiddleware(scraping, metrics=HttpMetrics())
    await call(middleware, "/_test/in-flight")

    assert seen == [1.0]
    assert scraped()[("beatstream_http_requests_in_flight", frozenset())] == 0.0


async def test_the_metrics_page_is_served_and_not_counted() -> None:
    middleware = RequestIdMiddleware(answering(200), metrics=HttpMetrics(path="/_test/metrics"))
    before = scraped()
    sent = await call(middleware, "/_test/metrics")
    after = parse(sent[1]["body"].decode())

    assert sent[0]["status"] == 200
    assert not any(name == b"x-request-id" for name, _ in sent[0]["headers"])
    counted = {k: v for k, v in after.items() if k[0] == "beatstream_http_requests_total"}
    assert counted == {k: v for k, v in before.items() if k[0] == "beatstream_http_requests_total"}


async def test_the_request_id_is_added_to_a_copy_of_the_apps_headers_once() -> None:
    shared = [(b"content-type", b"application/json")]  # as a microcache replay's list
    given = [(b"X-Request-ID", b"from-the-app")]
    for metrics in (None, HttpMetrics()):
        replayed = [
            await call(RequestIdMiddleware(answering(200, shared), metrics=metrics), "/x")
            for _ in range(2)
        ]
        kept = await call(RequestIdMiddleware(answering(500, given), metrics=metrics), "/x")

        assert shared == [(b"content-type", b"application/json")]
        for sent in replayed:
            assert [n for n, _ in sent[0]["headers"]].count(b"x-request-id") == 1
        assert kept[0]["headers"] == given


async def test_the_callers_last_request_id_is_adopted() -> None:
    headers = [(b"x-request-id", b"first"), (b"host", b"h"), (b"x-request-id", b"last-1")]
    sent = await call(RequestIdMiddleware(answering(200)), "/x", headers)

    assert dict(sent[0]["headers"])[b"x-request-id"] == b"last-1"


async def test_a_request_the_app_raised_on_counts_as_a_500_and_leaves_flight() -> None:
    template = f"/_test/tally/{uuid.uuid4().hex}"

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    middleware = RequestIdMiddleware(failing, metrics=HttpMetrics())
    before = scraped()
    with pytest.raises(RuntimeError):
        await call(middleware, template, routes=one_route(template))
    after = scraped()

    labels = {"route": template, "method": "GET", "status_class": "5xx"}
    assert after[("beatstream_http_requests_total", frozenset(labels.items()))] == 1
    assert after[("beatstream_http_requests_in_flight", frozenset())] == 0
    assert before[("beatstream_http_requests_in_flight", frozenset())] == 0
