"""Every error leaves as RFC 9457 problem details, whatever raised it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Query

from beatstream.app import create_app
from beatstream.errors import ConflictError
from beatstream.middleware import RequestIdMiddleware, RequestIdMinter
from beatstream.settings import Settings
from tests.fixtures.app import running


@pytest.fixture
async def probe_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app plus three throwaway routes that fail in each way a handler can."""
    app: FastAPI = create_app(settings)

    @app.get("/_test/limit")
    async def limited(limit: int = Query(ge=1, le=100)) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/_test/conflict")
    async def conflict() -> None:
        raise ConflictError("email already registered")

    @app.get("/_test/boom")
    async def boom() -> None:
        raise RuntimeError("mongodb://u:topsecret@db/ exploded")

    async with running(app) as http:
        yield http


async def test_validation_error_names_the_field(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/_test/limit", params={"limit": 1000})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Unprocessable Content"
    assert body["status"] == 422
    assert body["detail"] == "invalid input: limit"
    assert body["errors"][0]["field"] == "limit"
    assert body["errors"][0]["in"] == "query"
    assert body["instance"] == "/_test/limit"


async def test_app_error_keeps_its_status_and_detail(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/_test/conflict")

    assert response.status_code == 409
    assert response.json()["type"].endswith("/conflict")
    assert response.json()["detail"] == "email already registered"
    assert len(response.headers.get_list("x-request-id")) == 1


async def test_unknown_route_is_a_404_problem(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/nope")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/not-found")


async def test_unexpected_error_is_a_500_that_leaks_nothing(
    probe_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await probe_client.get("/_test/boom", headers={"X-Request-ID": "req-42"})

    assert response.status_code == 500
    body = response.json()
    assert "topsecret" not in response.text
    assert "exploded" not in response.text
    assert body["request_id"] == "req-42"
    assert response.headers.get_list("x-request-id") == ["req-42"]
    logged = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert logged
    assert logged[0].request_id == "req-42"


async def test_request_id_is_echoed_or_minted(probe_client: httpx.AsyncClient) -> None:
    given = await probe_client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    minted = await probe_client.get("/health/live", headers={"X-Request-ID": "bad id <script>"})

    assert given.headers["x-request-id"] == "abc-123"
    assert len(minted.headers["x-request-id"]) == 32
    assert minted.headers["x-request-id"] != "bad id"


async def test_openapi_documents_health_with_examples(probe_client: httpx.AsyncClient) -> None:
    spec = (await probe_client.get("/openapi.json")).json()

    assert "/health/ready" in spec["paths"]
    assert spec["components"]["schemas"]["Readiness"]["examples"]


def test_minted_request_ids_are_unique_and_a_forked_child_draws_its_own_prefix() -> None:
    minter = RequestIdMinter()
    ids = {minter() for _ in range(1000)}
    prefix = next(iter(ids))[:16]
    minter.reseed()  # what a forked child runs

    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert minter()[:16] != prefix


async def test_minting_a_request_id_draws_no_randomness_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[int] = []
    urandom = os.urandom
    monkeypatch.setattr(os, "urandom", lambda n: drawn.append(n) or urandom(n))
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["state"]["request_id"])

    async def receive() -> Any: ...

    async def send(message: Any) -> None: ...

    middleware = RequestIdMiddleware(app)
    for _ in range(100):
        await middleware({"type": "http", "headers": []}, receive, send)

    assert len(set(seen)) == 100
    assert drawn == []
