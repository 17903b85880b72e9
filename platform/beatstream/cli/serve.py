"""`beatstream serve`: run the API under uvicorn with Beatstream's logging."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import typer
import uvicorn
from prometheus_client import start_http_server

from beatstream.cli.settings import load_settings
from beatstream.logs import logging_config
from beatstream.metrics.registry import multiprocess_dir, registry
from beatstream.settings import Settings


def _require_shared_secrets(settings: Settings) -> None:
    """Several workers must share their secrets: a token signed by one would fail on the
    others, and each would give the same listener a different pseudonymous key. One
    process may make its own (the lifespan warns), several may not."""
    missing = [
        name
        for name, value in (
            ("SECURITY_JWT_SECRET", settings.security.jwt_secret),
            ("THIRDPARTY_PSEUDONYM_SECRET", settings.thirdparty.pseudonym_secret),
        )
        if value is None
    ]
    if missing:
        typer.echo(f"error: --workers > 1 needs {' and '.join(missing)} set", err=True)
        raise typer.Exit(code=2)


# Room for the method, the protocol and the line ends around the target and headers.
_REQUEST_LINE_SLACK = 1024


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The server options every `beatstream serve` process runs with (tests use them too).

    - Forwarded headers are believed only from `API_TRUSTED_PROXIES`; with none (the
      default) uvicorn ignores them, where its own default would trust loopback and let
      any client behind a local hop pick its address: its rate-limit bucket and login
      lock-out with it.
    - The request head the server buffers is bounded: httptools (uvicorn's choice when
      installed, as here) refuses heads past ~64 KiB; h11, if it runs, is held to the
      app's own limits plus slack. The app answers 414/431 past `API_MAX_URL_BYTES` /
      `API_MAX_HEADER_BYTES` (beatstream.head_limit).
    - No `server` banner.
    """
    api = settings.api
    return {
        "proxy_headers": bool(api.trusted_proxies),
        "forwarded_allow_ips": api.trusted_proxies or "",
        "h11_max_incomplete_event_size": (
            api.max_url_bytes + api.max_header_bytes + _REQUEST_LINE_SLACK
        ),
        "server_header": False,
    }


def serve(
    host: str | None = typer.Option(None, help="Bind address (default: API_HOST)."),
    port: int | None = typer.Option(None, help="Port (default: API_PORT, 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes; each is stateless."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Serve the API (docs at /docs). Exits non-zero if a store cannot be reached."""
    settings = load_settings()
    if workers > 1:
        _require_shared_secrets(settings)
    metrics = settings.metrics
    with ExitStack() as stack:
        if metrics.enabled and workers > 1:
            stack.enter_context(multiprocess_dir())
        if metrics.enabled and metrics.port:
            # Here, not in a worker: one listener whatever the worker count; under
            # several workers it sums their files (beatstream.metrics.registry).
            start_http_server(metrics.port, metrics.host, registry())
        _run(settings, host, port, workers, reload)


def _run(
    settings: Settings, host: str | None, port: int | None, workers: int, reload: bool
) -> None:
    uvicorn.run(
        "beatstream.app:create_app",
        factory=True,
        host=host or settings.api.host,
        port=port or settings.api.port,
        workers=workers,
        reload=reload,
        lifespan="on",
        log_config=logging_config(settings.log),
        log_level=settings.log.level.lower(),
        **uvicorn_options(settings),
    )
