"""`beatstream serve`: run the API under uvicorn with Beatstream's logging."""

from __future__ import annotations

import typer
import uvicorn

from beatstream.cli.settings import load_settings
from beatstream.logs import logging_config
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
        proxy_headers=True,
    )
