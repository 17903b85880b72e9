"""The application factory: `uvicorn --factory beatstream.app:create_app`."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from pymongo.monitoring import CommandListener

from beatstream import __version__
from beatstream.api import v1
from beatstream.apidocs import install_docs
from beatstream.auth.guard import authenticate_before_validating
from beatstream.body_limit import BodySizeLimitMiddleware
from beatstream.cache.microcache import MicrocacheMiddleware
from beatstream.catalog.router import FAST_SONG
from beatstream.dashboard.router import mount_dashboard
from beatstream.fastpath import FastPathMiddleware
from beatstream.head_limit import RequestHeadLimitMiddleware
from beatstream.health.router import FAST_LIVE
from beatstream.health.router import router as health_router
from beatstream.lifespan import build_lifespan
from beatstream.methods import MethodSemanticsMiddleware
from beatstream.metrics.http import HttpMetrics
from beatstream.metrics.tracing import configure_tracing
from beatstream.middleware import RequestIdMiddleware
from beatstream.openapi import install_openapi
from beatstream.playlists.router import FAST_PLAYLIST
from beatstream.problems import install_problem_handlers
from beatstream.ratelimit import RateLimitMiddleware
from beatstream.security_headers import SecurityHeadersMiddleware
from beatstream.settings import Settings, get_settings


def create_app(
    settings: Settings | None = None, *, mongo_listeners: Sequence[CommandListener] = ()
) -> FastAPI:
    """`mongo_listeners`: PyMongo command listeners for the app's client (metrics, tests)."""
    settings = settings or get_settings()
    tracing = configure_tracing()  # only when OTEL_* asks for it (beatstream.metrics.tracing)
    app = FastAPI(
        title=settings.api.title,
        version=__version__,
        summary="Catalogue, playlists, listeners, search and analytics for music streaming.",
        lifespan=build_lifespan(settings, mongo_listeners),
        # Served by `install_docs` from vendored assets, not from a CDN.
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry asks the global providers on every request whether
        # it has work to do (~4.5% of a cached answer's CPU under py-spy). We know at
        # start: spans only when OTEL_* asked for tracing; OpenTelemetry metrics and logs
        # never (Prometheus and the JSON log are ours).
        telemetry={"tracing": tracing, "metrics": False, "logs": False},
    )
    # Innermost: kept songs and public playlists answered before routing, inside every
    # other middleware (beatstream.fastpath).
    app.add_middleware(FastPathMiddleware, routes=[FAST_LIVE, FAST_SONG, FAST_PLAYLIST])
    # A complete Allow on 405s, OPTIONS, HEAD wherever GET (beatstream.methods).
    app.add_middleware(MethodSemanticsMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.api.max_body_bytes)
    app.add_middleware(
        MicrocacheMiddleware,
        ttl_s=settings.api.microcache_ttl_s,
        max_entries=settings.api.microcache_entries,
    )
    # Outside the microcache, so a cached answer still counts against the caller's limit.
    app.add_middleware(RateLimitMiddleware)
    # Outside the rate limiter: an over-long request costs no Redis round trip.
    app.add_middleware(
        RequestHeadLimitMiddleware,
        max_url_bytes=settings.api.max_url_bytes,
        max_header_bytes=settings.api.max_header_bytes,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost: with metrics on it also times every answer and serves the metrics
    # before any limit, in the one layer that wraps `send` (beatstream.metrics.http).
    metrics = settings.metrics
    path = None if metrics.port else metrics.path
    http_metrics = HttpMetrics(path=path) if metrics.enabled else None
    app.add_middleware(RequestIdMiddleware, metrics=http_metrics)
    install_problem_handlers(app)
    authenticate_before_validating(app)
    app.include_router(health_router)
    app.include_router(v1)
    mount_dashboard(app)  # /dashboard, HTML over the /v1 API; not in the OpenAPI document
    install_openapi(app)
    install_docs(app)
    return app
