from __future__ import annotations

import asyncio
from typing import Any

import fastapi.routing
import httpx
import pytest
from pydantic import ValidationError

from beatstream.app import create_app
from beatstream.auth.principals import Role
from beatstream.settings import HealthSettings, Settings
from beatstream.stores.clients import RedisClient
from tests.fixtures.app import running
from tests.fixtures.auth import AsRole
from tests.fixtures.servers import DisposableRedis


def _with_ttl(settings: Settings, ttl_s: float) -> Settings:
    return settings.model_copy(
        update={"health": settings.health.model_copy(update={"cache_ttl_s": ttl_s})}
    )


async def _redis_info_calls(redis_client: RedisClient) -> int:
    stats = await redis_client.info("commandstats")
    return int(stats.get("cmdstat_info", {}).get("calls", 0))


async def test_live_answers_without_touching_stores(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_three_real_server_versions(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["stores"]) == {"mongodb", "elasticsearch", "redis"}
    for store in body["stores"].values():
        assert store["up"] is True
        assert store["version"][0].isdigit()
        assert store["rtt_ms"] >= 0
        assert store["error"] is None


async def test_ready_is_503_while_a_store_is_down(
    settings: Settings, disposable_redis: DisposableRedis
) -> None:
    redis = settings.redis.model_copy(
        update={"url": disposable_redis.url, "cluster": False, "socket_timeout_s": 0.5}
    )
    app = create_app(_with_ttl(settings, 0).model_copy(update={"redis": redis}))
    async with running(app) as http:
        assert (await http.get("/health/ready")).status_code == 200
        disposable_redis.kill()
        response = await http.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["stores"]["redis"]["up"] is False
    assert body["stores"]["redis"]["error"]
    assert body["stores"]["mongodb"]["up"] is True
    assert body["stores"]["elasticsearch"]["up"] is True


async def test_concurrent_readiness_checks_share_one_round_of_probes(
    settings: Settings, redis_client: RedisClient
) -> None:
    """Counted by the real Redis server: each probe round sends it one INFO."""
    async with running(create_app(_with_ttl(settings, 0))) as http:
        before = await _redis_info_calls(redis_client)
        responses = await asyncio.gather(*(http.get("/health/ready") for _ in range(20)))
        after = await _redis_info_calls(redis_client)

    assert {r.status_code for r in responses} == {200}
    probe_rounds = after - before - 1  # minus the `before` INFO itself
    # Without coalescing this is 20; a loaded machine may let a round finish early.
    assert 1 <= probe_rounds <= 5


async def test_readiness_answer_is_reused_within_its_ttl(
    settings: Settings, redis_client: RedisClient
) -> None:
    async with running(create_app(_with_ttl(settings, 30))) as http:
        first = await http.get("/health/ready")
        before = await _redis_info_calls(redis_client)
        again = [await http.get("/health/ready") for _ in range(5)]
        after = await _redis_info_calls(redis_client)

    assert all(r.json() == first.json() for r in again)
    assert after - before == 1  # only the `before` INFO: no new probe round


def _detail_networks(settings: Settings, networks: str) -> Settings:
    return settings.model_copy(
        update={"health": settings.health.model_copy(update={"detail_networks": networks})}
    )


async def test_ready_tells_an_anonymous_caller_the_status_only(
    anon_client: httpx.AsyncClient,
) -> None:
    response = await anon_client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_ready_tells_a_non_admin_the_status_only(as_role: AsRole) -> None:
    response = await as_role(Role.editor).get("/health/ready")

    assert response.json() == {"status": "ready"}


@pytest.mark.parametrize(("networks", "detailed"), [("127.0.0.0/8", True), ("10.0.0.0/8", False)])
async def test_ready_shows_detail_to_the_internal_networks(
    settings: Settings, networks: str, detailed: bool
) -> None:
    """The in-process client connects from 127.0.0.1 (httpx's ASGI transport)."""
    async with running(create_app(_detail_networks(settings, networks)), role=None) as http:
        body = (await http.get("/health/ready")).json()

    assert ("stores" in body) is detailed
    assert body["status"] == "ready"


async def test_ready_down_tells_an_anonymous_caller_only_that(
    settings: Settings, disposable_redis: DisposableRedis
) -> None:
    redis = settings.redis.model_copy(
        update={"url": disposable_redis.url, "cluster": False, "socket_timeout_s": 0.5}
    )
    app = create_app(_with_ttl(settings, 0).model_copy(update={"redis": redis}))
    async with running(app, role=None) as http:
        disposable_redis.kill()
        response = await http.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {"status": "unavailable"}


def test_detail_networks_must_be_networks() -> None:
    with pytest.raises(ValidationError, match="detail_networks"):
        HealthSettings(detail_networks="10.0.0.0/8, intranet")


async def test_live_sends_its_one_answer_without_serialising_per_request(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    serialised: list[object] = []
    original = fastapi.routing.serialize_response

    async def spy(*args: Any, **kwargs: Any) -> Any:
        serialised.append(kwargs.get("response_content"))
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "serialize_response", spy)
    response = await client.get("/health/live")

    assert response.json() == {"status": "ok"}
    assert response.headers["content-type"] == "application/json"
    assert serialised == []
