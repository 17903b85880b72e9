from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.app import create_app
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from tests.fixtures.app import running


def _small_limit(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"api": settings.api.model_copy(update={"max_body_bytes": 4096})}
    )


async def test_a_declared_oversized_body_is_413_and_writes_nothing(
    settings: Settings, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    body = {"name": "x" * 10_000, "country": "GB"}
    async with running(create_app(_small_limit(settings))) as http:
        response = await http.post("/v1/artists", json=body)

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert await mongo_db.artists.count_documents({}) == 0


async def test_a_streamed_oversized_body_is_413(
    settings: Settings, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'", "country": "GB"}'

    async with running(create_app(_small_limit(settings))) as http:
        response = await http.post(
            "/v1/artists", content=chunks(), headers={"content-type": "application/json"}
        )

    assert response.status_code == 413
    assert await mongo_db.artists.count_documents({}) == 0


async def test_a_body_under_the_limit_passes(settings: Settings, mongo_db: object) -> None:
    async with running(create_app(_small_limit(settings))) as http:
        response = await http.post("/v1/artists", json={"name": "Adele", "country": "GB"})
    assert response.status_code == 201


async def test_default_limit_refuses_a_10_mb_string(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/artists", json={"name": "x" * 10_000_000, "country": "GB"})
    assert response.status_code == 413
