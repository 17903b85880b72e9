"""The GCRA limiter against real Redis, and who each request counts against."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from beatstream.app import create_app
from beatstream.auth.principals import Role
from beatstream.partners.service import create_key
from beatstream.ratelimit import RateLimiter
from beatstream.settings import RateLimitSettings, Settings
from beatstream.stores.clients import RedisClient, create_redis_client
from tests.fixtures.app import http_client, running, serving
from tests.fixtures.servers import DisposableRedis
from tests.fixtures.tokens import bearer


def _limiter(redis: RedisClient, prefix: str, **settings: object) -> RateLimiter:
    return RateLimiter(redis, prefix, RateLimitSettings.model_validate(settings))


async def test_the_request_after_the_limit_is_refused_and_other_buckets_are_not(
    redis_client: RedisClient, redis_prefix: str
) -> None:
    limiter = _limiter(redis_client, redis_prefix, window_s=60)

    decisions = [await limiter.hit("key:a", 3) for _ in range(4)]
    other = await limiter.hit("key:b", 3)

    assert [d.allowed for d in decisions if d] == [True, True, True, False]
    assert [d.remaining for d in decisions if d] == [2, 1, 0, 0]
    refused = decisions[3]
    assert refused is not None
    assert 19 <= refused.retry_after_s <= 20  # one request refills every 60/3 s
    assert refused.headers()["Retry-After"] == str(refused.retry_after_s)
    assert refused.headers()["RateLimit-Policy"] == "3;w=60"
    assert other is not None
    assert other.allowed
    assert other.remaining == 2


async def test_a_bucket_is_one_key_under_the_prefix_that_expires_when_full_again(
    redis_client: RedisClient, redis_prefix: str
) -> None:
    limiter = _limiter(redis_client, redis_prefix, window_s=60)

    await limiter.hit("key:a", 3)

    keys = [key async for key in redis_client.scan_iter(match=f"{redis_prefix}*")]
    assert keys == [f"{redis_prefix}rl:key:a".encode()]
    assert 0 < await redis_client.pttl(keys[0]) <= 20_000


async def test_a_drained_bucket_refills_one_request_per_interval(
    redis_client: RedisClient, redis_prefix: str
) -> None:
    limiter = _limiter(redis_client, redis_prefix, window_s=1)
    for _ in range(4):
        await limiter.hit("key:a", 4)
    drained = await limiter.hit("key:a", 4)

    await asyncio.sleep(0.3)  # one interval is 1 s / 4
    refilled = await limiter.hit("key:a", 4)
    again = await limiter.hit("key:a", 4)

    assert drained is not None
    assert not drained.allowed
    assert drained.retry_after_s == 1
    assert refilled is not None
    assert refilled.allowed
    assert again is not None
    assert not again.allowed


async def test_concurrent_requests_never_exceed_the_limit(
    redis_client: RedisClient, redis_prefix: str
) -> None:
    """The check and the update are one script: no two requests take the last slot."""
    limiter = _limiter(redis_client, redis_prefix, window_s=60)

    decisions = await asyncio.gather(*(limiter.hit("key:a", 10) for _ in range(50)))

    assert sum(1 for d in decisions if d and d.allowed) == 10


async def test_switched_off_it_decides_nothing(
    redis_client: RedisClient, redis_prefix: str
) -> None:
    limiter = _limiter(redis_client, redis_prefix, enabled=False)

    assert await limiter.hit("key:a", 1) is None
    assert [key async for key in redis_client.scan_iter(match=f"{redis_prefix}*")] == []


async def test_redis_down_fails_open_with_one_warning(
    disposable_redis: DisposableRedis, caplog: pytest.LogCaptureFixture
) -> None:
    redis = create_redis_client(
        Settings().redis.model_copy(update={"url": disposable_redis.url, "socket_timeout_s": 1})
    )
    limiter = _limiter(redis, "bs:test:")
    assert await limiter.hit("key:a", 1) is not None
    disposable_redis.kill()

    with caplog.at_level(logging.WARNING, logger="beatstream.ratelimit"):
        results = [await limiter.hit("key:a", 1) for _ in range(3)]
    await redis.aclose()

    assert results == [None, None, None]
    warnings = [r for r in caplog.records if "rate limiting is off" in r.message]
    assert len(warnings) == 1


# Anonymous requests, per client IP


@pytest.fixture
def anonymous_limited(settings: Settings, mongo_db: object, redis_prefix: str) -> Settings:
    return settings.model_copy(
        update={"ratelimit": settings.ratelimit.model_copy(update={"anonymous_limit": 2})}
    )


async def test_anonymous_requests_are_limited_per_ip(anonymous_limited: Settings) -> None:
    async with running(create_app(anonymous_limited), role=None) as http:
        responses = [await http.get("/v1/songs") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r.headers["RateLimit-Remaining"] for r in responses] == ["1", "0", "0"]
    refused = responses[2]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "https://beatstream.dev/problems/too-many-requests"
    assert refused.json()["request_id"] == refused.headers.get_list("x-request-id")[0]
    assert int(refused.headers["Retry-After"]) >= 1


async def test_health_and_docs_are_never_limited(anonymous_limited: Settings) -> None:
    async with running(create_app(anonymous_limited), role=None) as http:
        statuses = [(await http.get("/health/live")).status_code for _ in range(4)]
        statuses += [(await http.get("/openapi.json")).status_code for _ in range(2)]
        limited = [(await http.get("/v1/songs")).status_code for _ in range(3)]

    assert statuses == [200] * 6
    assert limited == [200, 200, 429]


async def test_made_up_credentials_count_against_the_ip(anonymous_limited: Settings) -> None:
    """Only a credential that verifies moves a request off the per-IP limit: a forged
    token, a non-bearer header or an API key where keys are not read all count."""
    async with running(create_app(anonymous_limited), role=None) as http:
        statuses = [
            (await http.get("/v1/songs", headers=headers)).status_code
            for headers in (
                {"Authorization": "Bearer not-a-token"},
                {"Authorization": "Basic YTpi"},
                {"X-API-Key": "bsk_0000000000000000_made-up"},
            )
        ]

    assert statuses == [200, 200, 429]


async def test_a_signed_in_account_has_its_own_bucket(anonymous_limited: Settings) -> None:
    """Verified tokens count per account, so neither the address's anonymous traffic
    nor another account on the same address uses up a listener's allowance."""
    limited = anonymous_limited.model_copy(
        update={"ratelimit": anonymous_limited.ratelimit.model_copy(update={"user_limit": 3})}
    )
    ada, bob = bearer(Role.listener), bearer(Role.listener)
    async with running(create_app(limited), role=None) as http:
        anonymous = [(await http.get("/v1/songs")).status_code for _ in range(3)]
        ada_statuses = [(await http.get("/v1/songs", headers=ada)).status_code for _ in range(4)]
        bob_first = await http.get("/v1/songs", headers=bob)

    assert anonymous == [200, 200, 429]
    assert ada_statuses == [200, 200, 200, 429]
    assert bob_first.status_code == 200
    assert bob_first.headers["RateLimit-Limit"] == "3"
    assert bob_first.headers["RateLimit-Remaining"] == "2"


def test_limits_and_partner_settings_come_from_flat_env_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RATELIMIT_KEY_LIMIT", "7")
    monkeypatch.setenv("RATELIMIT_ANONYMOUS_LIMIT", "9")
    monkeypatch.setenv("RATELIMIT_WINDOW_S", "30")
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("PARTNERS_KEY_CACHE_TTL_S", "0")
    monkeypatch.setenv("PARTNERS_AUDIT_RETENTION_DAYS", "30")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.ratelimit == RateLimitSettings(
        enabled=False, window_s=30, key_limit=7, anonymous_limit=9
    )
    assert settings.partners.key_cache_ttl_s == 0
    assert settings.partners.audit_retention_days == 30


# Several client addresses: the ASGI `client` of each request, set on the transport.


def _from(transport: httpx.ASGITransport, address: str) -> httpx.AsyncClient:
    """A client whose requests arrive from `address` (the ASGI scope's `client`)."""
    at = httpx.ASGITransport(app=transport.app, client=(address, 40000), raise_app_exceptions=False)
    return http_client(at)


async def test_each_anonymous_address_has_its_own_bucket(anonymous_limited: Settings) -> None:
    async with (
        serving(create_app(anonymous_limited)) as transport,
        _from(transport, "203.0.113.1") as first,
        _from(transport, "203.0.113.2") as second,
    ):
        first_statuses = [(await first.get("/v1/songs")).status_code for _ in range(3)]
        second_statuses = [(await second.get("/v1/songs")).status_code for _ in range(3)]
        first_again = await first.get("/v1/songs")

    assert first_statuses == [200, 200, 429]
    assert second_statuses == [200, 200, 429]
    assert first_again.status_code == 429
    assert "for ip 203.0.113.1;" in first_again.json()["detail"]


async def test_a_valid_api_key_on_a_third_party_route_spares_the_address(
    anonymous_limited: Settings,
) -> None:
    """The key's own limit applies (in the route); the middleware leaves such a request
    alone, so a partner's pulls do not use up the anonymous allowance of its address."""
    async with (
        serving(create_app(anonymous_limited)) as transport,
        _from(transport, "203.0.113.3") as http,
    ):
        key, _ = await create_key("acme", ["views:read"])
        keyed = [
            await http.get("/v1/thirdparty/no_such_view", headers={"X-API-Key": key})
            for _ in range(4)
        ]
        anonymous = [(await http.get("/v1/songs")).status_code for _ in range(3)]

    assert [r.status_code for r in keyed] == [404] * 4
    assert {r.headers["RateLimit-Limit"] for r in keyed} == {"600"}  # the key's bucket
    assert anonymous == [200, 200, 429]


async def test_a_third_party_route_without_a_key_counts_once_against_the_address(
    anonymous_limited: Settings,
) -> None:
    async with (
        serving(create_app(anonymous_limited)) as transport,
        _from(transport, "203.0.113.4") as http,
    ):
        statuses = [(await http.get("/v1/thirdparty/play_stats")).status_code for _ in range(3)]

    assert statuses == [401, 401, 429]
