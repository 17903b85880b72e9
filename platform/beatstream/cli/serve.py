"""`beatstream serve`: run the API under uvicorn with Beatstream's logging."""

from __future__ import annotations

import typer
import uvicorn

from beatstream.cli.settings import load_settings
from beatstream.logs import logging_config


def serve(
    host: str | None = typer.Option(None, help="Bind address (default: API_HOST)."),
    port: int | None = typer.Option(None, help="Port (default: API_PORT, 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes; each is stateless."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Serve the API (docs at /docs). Exits non-zero if a store cannot be reached."""
    settings = load_settings()
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
