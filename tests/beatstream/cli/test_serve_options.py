"""The server options of `beatstream serve`, under a real uvicorn on a real socket.

The app and uvicorn run in this test's event loop with exactly the options `serve`
passes (`uvicorn_options`), so what decides a client's address here is what decides it
in production: uvicorn's proxy-header handling, not a mock of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from pydantic import ValidationError

from beatstream.app import create_app
from beatstream.cli.serve import uvicorn_options
from beatstream.settings import ApiSettings, Settings
from beatstream.stores.clients import RedisClient
from seed.builders import listener_payload
from tests.fixtures.ports import unused_port

FORGED = ("203.0.113.7", "203.0.113.8", "203.0.113.9")


@contextlib.asynccontextmanager
async def uvicorn_serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    port = unused_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_config=None,
        **uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn exited before it started")
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield http
    finally:
        server.should_exit = True
        await task


async def _raw_status_line(http: httpx.AsyncClient, target: str) -> bytes:
    reader, writer = await asyncio.open_connection(http.base_url.host, http.base_url.port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        with contextlib.suppress(ConnectionError):  # it may hang up before reading it all
            await writer.drain()
        return await reader.readline()
    finally:
        writer.close()


def _with(settings: Settings, **sections: dict[str, object]) -> Settings:
    return settings.model_copy(
        update={
            name: getattr(settings, name).model_copy(update=fields)
            for name, fields in sections.items()
        }
    )


@pytest.fixture
def limited(settings: Settings, mongo_db: object, redis_prefix: str) -> Settings:
    return _with(settings, ratelimit={"anonymous_limit": 2})


async def _ip_buckets(redis_client: RedisClient, prefix: str) -> set[str]:
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}rl:ip:*")]
    return {(k.decode() if isinstance(k, bytes) else k).rsplit("ip:", 1)[1] for k in keys}


async def test_a_forged_forwarded_for_from_loopback_counts_against_the_peer(
    limited: Settings, redis_client: RedisClient, redis_prefix: str
) -> None:
    async with uvicorn_serving(limited) as http:
        responses = [
            await http.get("/v1/songs", headers={"X-Forwarded-For": forged}) for forged in FORGED
        ]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert await _ip_buckets(redis_client, redis_prefix) == {"127.0.0.1"}


async def test_a_trusted_proxy_s_forwarded_for_is_the_client(
    limited: Settings, redis_client: RedisClient, redis_prefix: str
) -> None:
    """The control: the same request through a configured proxy is the forwarded client."""
    behind_proxy = _with(limited, api={"trusted_proxies": "127.0.0.1"})
    async with uvicorn_serving(behind_proxy) as http:
        responses = [
            await http.get("/v1/songs", headers={"X-Forwarded-For": forged}) for forged in FORGED
        ]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert await _ip_buckets(redis_client, redis_prefix) == set(FORGED)


async def test_a_forged_forwarded_for_does_not_escape_the_login_lock_out(
    settings: Settings, rng: random.Random, mongo_db: object, redis_prefix: str
) -> None:
    strict = _with(settings, security={"login_max_failures": 2})
    payload = listener_payload(rng, password="correct horse battery")
    async with uvicorn_serving(strict) as http:
        assert (await http.post("/v1/listeners", json=payload)).status_code == 201
        attempts = [
            await http.post(
                "/v1/auth/token",
                data={"username": payload["email"], "password": password},
                headers={"X-Forwarded-For": forged},
            )
            for forged, password in zip(
                FORGED, ("wrong", "wrong", "correct horse battery"), strict=True
            )
        ]

    assert [r.status_code for r in attempts] == [401, 401, 429]


async def test_no_server_banner(settings: Settings, mongo_db: object) -> None:
    async with uvicorn_serving(settings) as http:
        response = await http.get("/health/live")

    assert response.status_code == 200
    assert "server" not in response.headers


async def test_a_request_head_past_both_limits_is_refused_by_the_server(
    settings: Settings, mongo_db: object
) -> None:
    small = _with(settings, api={"max_url_bytes": 1024, "max_header_bytes": 1024})
    async with uvicorn_serving(small) as http:
        # Past what arrives in one read (64 KiB): h11 stops buffering the unfinished head.
        # (Over a raw socket: httpx refuses to send a URL that long.)
        too_long = await _raw_status_line(http, "/health/live?x=" + "a" * 200_000)
        answered = await http.get("/health/live", params={"x": "a" * 1500})

    assert too_long.startswith(b"HTTP/1.1 400 ")  # refused by the server, not the app
    assert answered.status_code == 414  # the app's own limit
    assert answered.headers["content-type"] == "application/problem+json"


def test_without_trusted_proxies_forwarded_headers_are_off() -> None:
    options = uvicorn_options(Settings())

    assert options["proxy_headers"] is False
    assert options["server_header"] is False


@pytest.mark.parametrize("value", ["proxy.internal", "10.0.0.0/8, nope", "300.1.1.1"])
def test_trusted_proxies_must_be_addresses_or_networks(value: str) -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        ApiSettings(trusted_proxies=value)
