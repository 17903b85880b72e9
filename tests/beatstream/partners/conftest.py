"""Partner-key fixtures: the app with two probe routes guarded exactly as views are.

The probes return the `PartnerKey` the dependency produced, so the tests exercise
`require_view_scope` and `ViewPartner` without depending on the third-party views.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import StreamingResponse

from beatstream.app import create_app
from beatstream.partners import service
from beatstream.partners.dependencies import PartnerKey, ViewPartner, require_view_scope
from beatstream.settings import Settings
from tests.fixtures.app import running

MakeKey = Callable[..., Awaitable[str]]


def _probe_router() -> APIRouter:
    router = APIRouter(prefix="/v1/probe")

    def shown(partner: PartnerKey) -> dict[str, Any]:
        return {"key_id": partner.key_id, "name": partner.name, "scopes": sorted(partner.scopes)}

    @router.get("/play_stats")
    async def play_stats(
        partner: Annotated[PartnerKey, require_view_scope("play_stats")],
    ) -> dict[str, Any]:
        return shown(partner)

    @router.get("/views/{view}")
    async def any_view(partner: ViewPartner) -> dict[str, Any]:
        return shown(partner)

    @router.get("/stream/{view}")
    async def stream(partner: ViewPartner) -> StreamingResponse:
        """Returns its own `Response`, as an NDJSON export does: headers set on FastAPI's
        injected response would be lost here, the middleware's are not."""

        async def lines() -> AsyncIterator[bytes]:
            yield b'{"row": 1}\n'

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    return router


def app_with_probes(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.include_router(_probe_router())
    return app


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return app_with_probes(settings)


@pytest.fixture
def make_key(client: httpx.AsyncClient) -> MakeKey:
    """Create a key in this test's database (the app's lifespan has bound Beanie to it)."""

    async def make(
        name: str = "acme", scopes: tuple[str, ...] = ("views:read",), limit: int | None = None
    ) -> str:
        plaintext, _ = await service.create_key(name, scopes, limit)
        return plaintext

    return make


@pytest.fixture
def limited_app(
    settings: Settings, mongo_db: object, redis_prefix: str
) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    """`async with limited_app(key_limit=3, window_s=1) as http:` the probes app with
    those rate-limit settings, on this test's database and Redis prefix."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        limits = settings.ratelimit.model_copy(update=overrides)
        return running(app_with_probes(settings.model_copy(update={"ratelimit": limits})))

    return start
