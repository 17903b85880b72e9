"""`beatstream init`: create the local `.env` with generated secrets (beatstream.envfile).

Run by `make serve` before anything else; safe to run any number of times: an existing
file is left exactly as it is (exit 0), with a warning naming any secret it lacks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from beatstream.envfile import SECRET_VARIABLES, init_env_file


def init(
    path: Annotated[
        Path, typer.Option("--path", dir_okay=False, help="Where to write the file.")
    ] = Path(".env"),
) -> None:
    """Write PATH (mode 0600) with SECURITY_JWT_SECRET and THIRDPARTY_PSEUDONYM_SECRET.

    Every command run from this directory reads it. Never overwrites an existing file.
    """
    result = init_env_file(path)
    if result.created:
        typer.echo(f"created {path} (mode 0600) with {', '.join(SECRET_VARIABLES)}")
        return
    typer.echo(f"{path} exists; left unchanged")
    # A variable set in the environment wins over the file, so it covers a gap there.
    unset = [name for name in result.missing if not os.environ.get(name)]
    if unset:
        typer.echo(
            f"warning: {path} does not set {' or '.join(unset)}: each process will make its"
            " own (tokens die at restart, listeners get no partner key). Add them, or move"
            f" {path} aside and run `beatstream init` again.",
            err=True,
        )
