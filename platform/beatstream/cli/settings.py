"""Load settings for a command, turning validation errors into one line per variable."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from beatstream.settings import Settings, get_settings


def env_name(loc: tuple[int | str, ...]) -> str:
    """`("mongodb", "url")` -> `MONGODB_URL`: the variable the operator sets."""
    return "_".join(str(part) for part in loc).upper()


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            typer.echo(f"error: invalid setting {env_name(error['loc'])}: {error['msg']}", err=True)
        raise typer.Exit(code=2) from None
