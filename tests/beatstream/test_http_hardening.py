"""Request-head limits (414/431), response headers (nosniff, no-store), request ids
and log lines: what a hostile request can and cannot make the API do."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from fastapi import FastAPI

from beatstream.app import create_app
from beatstream.logs import MAX_LOGGED_CHARS, JsonFormatter
from beatstream.middleware import _is_valid_request_id
from beatstream.settings import Settings
from seed.builders import listener_payload
from tests.fixtures.app import running
from tests.fixtures.auth import ListenerClient


@pytest.fixture
async def small_heads(
    settings: Settings, mongo_db: object, redis_prefix: str
) -> AsyncIterator[httpx.AsyncClient]:
    api = settings.api.model_copy(update={"max_url_bytes": 1024, "max_header_bytes": 2048})
    app: FastAPI = create_app(settings.model_copy(update={"api": api}))

    @app.get("/_test/boom")
    async def boom() -> None:
        raise RuntimeError("exploded")

    async with running(app, role=None) as http:
        yield http


async def test_an_over_long_request_target_is_a_414_problem(
    small_heads: httpx.AsyncClient,
) -> None:
    at_limit = await small_heads.get("/health/live?x=" + "a" * (1024 - len("/health/live?x=")))
    over = await small_heads.get("/health/live?x=" + "a" * 1024)

    assert at_limit.status_code == 200
    assert over.status_code == 414
    assert over.headers["content-type"] == "application/problem+json"
    body = over.json()
    assert body["type"].endswith("/uri-too-long")
    assert "1024 bytes" in body["detail"]
    assert body["instance"] == "/health/live"


async def test_over_large_headers_are_a_431_problem(small_heads: httpx.AsyncClient) -> None:
    response = await small_heads.get("/health/live", headers={"X-Padding": "p" * 2048})

    assert response.status_code == 431
    assert response.json()["type"].endswith("/headers-too-large")
    assert "2048 bytes" in response.json()["detail"]


async def test_every_response_says_nosniff(small_heads: httpx.AsyncClient) -> None:
    responses = [
        await small_heads.get("/health/live"),
        await small_heads.get("/nope"),
        await small_heads.get("/_test/boom"),  # rendered outside every middleware
        await small_heads.get("/health/live?x=" + "a" * 2000),
    ]

    assert [r.status_code for r in responses] == [200, 404, 500, 414]
    for response in responses:
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_personal_data_and_tokens_are_never_stored(
    anon_client: httpx.AsyncClient, listener_client: ListenerClient, rng: random.Random
) -> None:
    payload = listener_payload(rng, password="correct horse battery")
    created = await anon_client.post("/v1/listeners", json=payload)
    listener = created.json()
    token = await anon_client.post(
        "/v1/auth/token", data={"username": payload["email"], "password": payload["password"]}
    )
    own = listener_client(listener)
    responses = {
        "create": created,
        "token": token,
        "me": await anon_client.get(
            "/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        ),
        "profile": await own.get(f"/v1/listeners/{listener['id']}"),
        "refused": await anon_client.get(f"/v1/listeners/{listener['id']}"),
    }

    assert {name: r.status_code for name, r in responses.items()} == {
        "create": 201,
        "token": 200,
        "me": 200,
        "profile": 200,
        "refused": 401,
    }
    for response in responses.values():
        assert response.headers.get_list("cache-control") == ["no-store"]


async def test_public_answers_are_not_marked_no_store(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/v1/songs")

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("abc-123", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("abc\n", False),  # `$` after `match` used to let a trailing newline through
        ("", False),
        ("a b", False),
    ],
)
def test_request_ids_are_bounded_and_whole(value: str, valid: bool) -> None:
    assert _is_valid_request_id(value) is valid


def test_a_log_line_is_cut_after_redaction() -> None:
    url = "/health/live?token=hunter2&x=" + "a" * 64_000 + "&pass=" + "s" * 10
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "GET %s HTTP/1.1" %d',
        ("127.0.0.1:5000", url, 414),
        None,
    )

    payload = orjson.loads(JsonFormatter().format(record))

    assert len(payload["msg"]) <= MAX_LOGGED_CHARS + 40
    assert payload["msg"].startswith('127.0.0.1:5000 - "GET /health/live?token=***&x=aaa')
    assert payload["msg"].endswith("more chars]")
    assert "hunter2" not in payload["msg"]
