"""Per-key rate limits over HTTP: the (limit+1)th request is refused, other keys are not."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from beatstream.partners import service
from beatstream.settings import Settings
from tests.beatstream.partners.conftest import app_with_probes
from tests.fixtures.app import running
from tests.fixtures.servers import DisposableRedis

LimitedApp = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
PROBE = "/v1/probe/play_stats"


async def _key(limit: int | None = None, scopes: tuple[str, ...] = ("views:read",)) -> str:
    plaintext, _ = await service.create_key("acme", scopes, limit)
    return plaintext


async def test_the_request_after_the_limit_gets_429_and_another_key_is_unaffected(
    limited_app: LimitedApp,
) -> None:
    async with limited_app(key_limit=3) as http:
        first, second = await _key(), await _key()
        allowed = [await http.get(PROBE, headers={"X-API-Key": first}) for _ in range(3)]
        refused = await http.get(PROBE, headers={"X-API-Key": first})
        other = await http.get(PROBE, headers={"X-API-Key": second})

    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert [r.headers["RateLimit-Remaining"] for r in allowed] == ["2", "1", "0"]
    assert {r.headers["RateLimit-Limit"] for r in allowed} == {"3"}
    assert {r.headers["RateLimit-Policy"] for r in allowed} == {"3;w=60"}
    # A full bucket refills one request every 20 s, so it is full again within 60 s.
    assert all(0 < int(r.headers["RateLimit-Reset"]) <= 60 for r in allowed)

    assert refused.status_code == 429
    body = refused.json()
    assert body["type"] == "https://beatstream.dev/problems/too-many-requests"
    assert first[4:20] in body["detail"]
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Limit"] == "3"
    assert 15 <= int(refused.headers["Retry-After"]) <= 20

    assert other.status_code == 200
    assert other.headers["RateLimit-Remaining"] == "2"


async def test_a_keys_own_limit_overrides_the_default(limited_app: LimitedApp) -> None:
    async with limited_app(key_limit=100) as http:
        strict = await _key(limit=1)
        statuses = [
            (await http.get(PROBE, headers={"X-API-Key": strict})).status_code for _ in "ab"
        ]
        default = await http.get(PROBE, headers={"X-API-Key": await _key()})

    assert statuses == [200, 429]
    assert default.headers["RateLimit-Limit"] == "100"


async def test_a_drained_key_gets_in_again_after_retry_after(limited_app: LimitedApp) -> None:
    """GCRA refills one request every window/limit: 0.5 s here, no long sleep."""
    async with limited_app(key_limit=2, window_s=1) as http:
        key = await _key()
        statuses = [(await http.get(PROBE, headers={"X-API-Key": key})).status_code for _ in "abc"]
        await asyncio.sleep(0.6)
        refilled = await http.get(PROBE, headers={"X-API-Key": key})
        again = await http.get(PROBE, headers={"X-API-Key": key})

    assert statuses == [200, 200, 429]
    assert refilled.status_code == 200
    assert again.status_code == 429


async def test_forbidden_requests_count_against_the_key(limited_app: LimitedApp) -> None:
    async with limited_app(key_limit=2) as http:
        key = await _key(scopes=("views:read:listener_actions",))
        statuses = [(await http.get(PROBE, headers={"X-API-Key": key})).status_code for _ in "abc"]

    assert statuses == [403, 403, 429]


async def test_a_streamed_response_carries_the_rate_limit_headers(
    limited_app: LimitedApp,
) -> None:
    async with limited_app(key_limit=5) as http:
        key = await _key()
        response = await http.get("/v1/probe/stream/play_stats", headers={"X-API-Key": key})

    assert response.status_code == 200
    assert response.text == '{"row": 1}\n'
    assert response.headers["RateLimit-Remaining"] == "4"
    assert response.headers["RateLimit-Policy"] == "5;w=60"


async def test_invalid_keys_count_against_the_client_ip(limited_app: LimitedApp) -> None:
    async with limited_app(anonymous_limit=2) as http:
        statuses = [
            (await http.get(PROBE, headers={"X-API-Key": "bsk_nope"})).status_code for _ in "abc"
        ]

    assert statuses == [401, 401, 429]


async def test_a_request_without_a_key_counts_once_against_the_client_ip(
    limited_app: LimitedApp,
) -> None:
    """The middleware counts it as anonymous; the failed key check must not count it again."""
    async with limited_app(anonymous_limit=2) as http:
        statuses = [(await http.get(PROBE)).status_code for _ in "abc"]

    assert statuses == [401, 401, 429]


async def test_redis_down_fails_open_without_rate_limit_headers(
    settings: Settings, mongo_db: object, disposable_redis: DisposableRedis
) -> None:
    settings = settings.model_copy(
        update={
            "redis": settings.redis.model_copy(
                update={"url": disposable_redis.url, "cluster": False}
            )
        }
    )
    async with running(app_with_probes(settings)) as http:
        key = await _key()
        before = await http.get(PROBE, headers={"X-API-Key": key})
        disposable_redis.kill()
        after = await http.get(PROBE, headers={"X-API-Key": key})

    assert before.status_code == 200
    assert "RateLimit-Limit" in before.headers
    assert after.status_code == 200
    assert "RateLimit-Limit" not in after.headers


@pytest.mark.parametrize("enabled", [False])
async def test_limits_can_be_switched_off(limited_app: LimitedApp, enabled: bool) -> None:
    async with limited_app(key_limit=1, enabled=enabled) as http:
        key = await _key()
        statuses = [(await http.get(PROBE, headers={"X-API-Key": key})).status_code for _ in "ab"]

    assert statuses == [200, 200]
