"""The application factory: `uvicorn --factory beatstream.app:create_app`."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from pymongo.monitoring import CommandListener

from beatstream import __version__
from beatstream.api import v1
from beatstream.body_limit import BodySizeLimitMiddleware
from beatstream.health.router import router as health_router
from beatstream.lifespan import build_lifespan
from beatstream.middleware import RequestIdMiddleware
from beatstream.openapi import install_openapi
from beatstream.problems import install_problem_handlers
from beatstream.ratelimit import RateLimitMiddleware
from beatstream.search.microcache import MicrocacheMiddleware
from beatstream.settings import Settings, get_settings


def create_app(
    settings: Settings | None = None, *, mongo_listeners: Sequence[CommandListener] = ()
) -> FastAPI:
    """`mongo_listeners`: PyMongo command listeners for the app's client (metrics, tests)."""
    settings = settings or get_settings()
    app = FastAPI(
        title=settings.api.title,
        version=__version__,
        summary="Catalogue, playlists, listeners, search and analytics for music streaming.",
        lifespan=build_lifespan(settings, mongo_listeners),
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.api.max_body_bytes)
    app.add_middleware(
        MicrocacheMiddleware,
        ttl_s=settings.api.microcache_ttl_s,
        max_entries=settings.api.microcache_entries,
    )
    # Outside the microcache, so a cached answer still counts against the caller's limit.
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(RequestIdMiddleware)
    install_problem_handlers(app)
    app.include_router(health_router)
    app.include_router(v1)
    install_openapi(app)
    return app
