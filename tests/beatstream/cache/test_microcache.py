"""The per-process microcache in front of the Redis-cached routes."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from redis.asyncio.cluster import RedisCluster

from beatstream.app import create_app
from beatstream.cache import microcache
from beatstream.cache.microcache import MicrocacheMiddleware
from beatstream.settings import Settings
from beatstream.stores.clients import RedisClient
from tests.fixtures.app import running
from tests.fixtures.search import IndexSongs, song_row


async def _redis_gets(redis_client: RedisClient) -> int:
    if isinstance(redis_client, RedisCluster):  # every primary's count: keys spread over them
        by_node = await redis_client.info("commandstats", target_nodes=RedisCluster.PRIMARIES)
        per_node = list(by_node.values())
    else:
        per_node = [await redis_client.info("commandstats")]
    return sum(int(node.get("cmdstat_get", {}).get("calls", 0)) for node in per_node)


@pytest.fixture
def micro_settings(search_settings: Settings) -> Settings:
    """Rate limiting off: its per-IP script runs a Redis GET per request, which the
    GET counts below would mistake for cache reads."""
    return search_settings.model_copy(
        update={
            "api": search_settings.api.model_copy(update={"microcache_ttl_s": 0.5}),
            "ratelimit": search_settings.ratelimit.model_copy(update={"enabled": False}),
        }
    )


async def test_a_repeated_url_is_answered_from_memory_until_it_expires(
    micro_settings: Settings,
    index_songs: IndexSongs,
    rng: random.Random,
    redis_client: RedisClient,
    mongo_db: object,
    es_prefix: str,
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The TTL's clock stands still until the test moves it: a slow machine taking
    # longer than the TTL between two requests must not look like an expiry.
    clock = _Clock()
    monkeypatch.setattr("beatstream.cache.microcache.time", clock)
    await index_songs([song_row(rng, title="Halo")])
    async with running(create_app(micro_settings)) as http:
        first = await http.get("/v1/search/songs", params={"q": "halo"})
        before = await _redis_gets(redis_client)
        repeated = [await http.get("/v1/search/songs", params={"q": "halo"}) for _ in range(5)]
        from_memory = await _redis_gets(redis_client) - before
        revalidated = await http.get(
            "/v1/search/songs",
            params={"q": "halo"},
            headers={"If-None-Match": first.headers["etag"]},
        )
        forced = await http.get(
            "/v1/search/songs", params={"q": "halo"}, headers={"Cache-Control": "no-cache"}
        )
        clock.now += 0.6
        before = await _redis_gets(redis_client)
        expired = await http.get("/v1/search/songs", params={"q": "halo"})
        after_expiry = await _redis_gets(redis_client) - before

    assert first.headers["x-cache"] == "miss"
    assert all(r.content == first.content and r.headers["x-cache"] == "hit" for r in repeated)
    assert from_memory == 0
    assert revalidated.status_code == 304
    assert forced.headers["x-cache"] == "hit"  # from Redis this time, not memory
    assert expired.status_code == 200
    assert after_expiry >= 1


async def _run(middleware: MicrocacheMiddleware, path: str) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    await middleware(scope, receive, send)  # type: ignore[arg-type]
    return sent[0]["status"], sent[1]["body"]


async def test_only_successful_cached_answers_are_kept() -> None:
    calls: list[str] = []
    statuses = {
        "/v1/search/ok": (200, True),
        "/v1/search/bad": (422, True),
        "/v1/search/uncached": (200, False),
        "/v1/songs": (200, True),
    }

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        status, cached = statuses[scope["path"]]
        headers = [(b"x-cache", b"miss"), (b"etag", b'"e"')] if cached else []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    middleware = MicrocacheMiddleware(inner, ttl_s=60, max_entries=10)
    for path in statuses:
        for _ in range(3):
            await _run(middleware, path)

    assert calls.count("/v1/search/ok") == 1
    assert calls.count("/v1/search/bad") == 3
    assert calls.count("/v1/search/uncached") == 3
    assert calls.count("/v1/songs") == 3


async def test_entries_are_bounded_least_recently_used_first() -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"x-cache", b"miss")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    middleware = MicrocacheMiddleware(inner, ttl_s=60, max_entries=2)
    for path in ("/v1/search/a", "/v1/search/b", "/v1/search/a", "/v1/search/c"):
        await _run(middleware, path)

    assert [key[0] for key in middleware.entries] == ["/v1/search/a", "/v1/search/c"]


async def test_an_expired_entry_is_refreshed_by_one_request_while_others_get_the_old_one() -> None:
    calls: list[int] = []

    async def slow_inner(scope: Any, receive: Any, send: Any) -> None:
        calls.append(len(calls))
        await asyncio.sleep(0.05)
        headers = [(b"x-cache", b"miss")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": str(len(calls)).encode()})

    middleware = MicrocacheMiddleware(slow_inner, ttl_s=0.01, max_entries=10)
    assert await _run(middleware, "/v1/search/x") == (200, b"1")
    await asyncio.sleep(0.02)  # expired

    answers = await asyncio.gather(*(_run(middleware, "/v1/search/x") for _ in range(10)))

    assert len(calls) == 2, "one refresh for ten concurrent requests"
    assert sorted(body for _, body in answers) == [b"1"] * 9 + [b"2"]


async def test_a_failed_refresh_is_retried_after_the_grace_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    statuses = iter([200, 503, 200])

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"x-cache", b"miss")]
        await send({"type": "http.response.start", "status": next(statuses), "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    monkeypatch.setattr("beatstream.cache.microcache.REFRESH_GRACE_S", 0.02)
    middleware = MicrocacheMiddleware(inner, ttl_s=0.01, max_entries=10)
    await _run(middleware, "/v1/search/x")
    await asyncio.sleep(0.02)
    assert (await _run(middleware, "/v1/search/x"))[0] == 503  # the refresh, failed
    assert (await _run(middleware, "/v1/search/x"))[0] == 200  # old answer, in grace
    await asyncio.sleep(0.03)
    assert (await _run(middleware, "/v1/search/x"))[0] == 200  # refreshed again


class _Clock:
    """The microcache's clock, moved by hand: staleness is counted, not slept."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


async def test_failing_refreshes_never_stretch_an_entry_past_ttl_plus_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an invalidation the old answer may live `ttl_s + REFRESH_GRACE_S` at most:
    a refresh that keeps failing (503) must not open grace window after grace window."""
    clock = _Clock()
    monkeypatch.setattr("beatstream.cache.microcache.time", clock)
    statuses = iter([200, 503, 503, 503])
    bodies = iter([b"old", b"down", b"down", b"down"])

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"x-cache", b"miss")]
        await send({"type": "http.response.start", "status": next(statuses), "headers": headers})
        await send({"type": "http.response.body", "body": next(bodies)})

    middleware = MicrocacheMiddleware(inner, ttl_s=10, max_entries=10)
    grace = microcache.REFRESH_GRACE_S
    served: list[tuple[int, bytes]] = [await _run(middleware, "/v1/search/x")]
    for at in (10.5, 10.5 + grace / 2, 10 + grace + 0.5, 10 + grace + 0.6):
        clock.now = 1000.0 + at
        served.append(await _run(middleware, "/v1/search/x"))

    assert served == [
        (200, b"old"),  # stored at t=0, expires at t=10
        (503, b"down"),  # t=10.5: the refresh, failed
        (200, b"old"),  # within the grace after expiry
        (503, b"down"),  # past ttl + grace: through to the app
        (503, b"down"),  # and still not the old answer
    ]


def _held_inner(
    calls: list[str], entered: asyncio.Event, release: asyncio.Event, status: int = 200
) -> Any:
    """An app that answers only once `release` is set: every request that reaches it
    while the first is held is one more trip to Redis the microcache did not save."""

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        entered.set()
        await release.wait()
        headers = [(b"x-cache", b"miss"), (b"etag", b'"e1"')]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": f"answer {len(calls)}".encode()})

    return inner


async def _run_with(
    middleware: MicrocacheMiddleware, path: str, headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": headers}
    await middleware(scope, receive, send)  # type: ignore[arg-type]
    return sent[0]["status"], sent[1]["body"]


async def test_identical_requests_with_nothing_kept_wait_for_one_trip() -> None:
    """A cold URL under concurrency (start-up, after an eviction): one request goes
    through, the others are answered with what it kept, not sent to Redis too.
    Handshake, not timing: the first request is held inside the app until every
    other one has been started."""
    calls: list[str] = []
    entered, release = asyncio.Event(), asyncio.Event()
    middleware = MicrocacheMiddleware(_held_inner(calls, entered, release), 60, 10)
    inm = [(b"if-none-match", b'"e1"')]

    tasks = [asyncio.create_task(_run(middleware, "/v1/search/x")) for _ in range(9)]
    tasks.append(asyncio.create_task(_run_with(middleware, "/v1/search/x", inm)))
    await entered.wait()  # the first is inside the app; the rest have each run to a wait
    release.set()
    answers = await asyncio.gather(*tasks)

    assert calls == ["/v1/search/x"]
    assert answers == [(200, b"answer 1")] * 9 + [(304, b"")]


async def test_waiters_go_through_themselves_when_nothing_was_kept() -> None:
    calls: list[str] = []
    entered, release = asyncio.Event(), asyncio.Event()
    middleware = MicrocacheMiddleware(_held_inner(calls, entered, release, status=503), 60, 10)

    tasks = [asyncio.create_task(_run(middleware, "/v1/search/x")) for _ in range(3)]
    await entered.wait()
    release.set()
    answers = await asyncio.gather(*tasks)

    assert len(calls) == 3
    assert [status for status, _ in answers] == [503, 503, 503]
    assert middleware.flights == {}


async def test_a_conditional_or_no_cache_request_never_leads() -> None:
    """A conditional request may be answered 304 (nothing to keep), and `no-cache`
    asks for the store itself: neither makes identical requests wait on it."""
    for headers in ([(b"if-none-match", b'"e1"')], [(b"cache-control", b"no-cache")]):
        calls: list[str] = []
        entered, release = asyncio.Event(), asyncio.Event()
        middleware = MicrocacheMiddleware(_held_inner(calls, entered, release), 60, 10)

        first = asyncio.create_task(_run_with(middleware, "/v1/search/x", headers))
        await entered.wait()
        second = asyncio.create_task(_run(middleware, "/v1/search/x"))
        await asyncio.sleep(0)  # the second runs up to the app, or up to a wait
        calls_while_held = len(calls)
        release.set()
        await asyncio.gather(first, second)

        assert calls_while_held == 2, headers
