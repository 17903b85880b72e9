"""`beatstream keys create | list | revoke`: partner API keys, administered from a shell.

Only MongoDB is needed, so only MongoDB is opened. The plaintext key is printed once,
to stdout, alone on its line (easy to pipe into a secret store); everything else goes
to stderr. Exit codes: 0 done, 1 no such live key or MongoDB unreachable (one line, no
traceback), 2 bad options (an unknown scope, say).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

import typer
from beanie import init_beanie
from pymongo.errors import PyMongoError
from rich.console import Console

from beatstream.cli.settings import load_settings
from beatstream.partners import service
from beatstream.partners.documents import ApiKey, AuditEntry
from beatstream.partners.schemas import KNOWN_SCOPES, ApiKeyOut, normalize_scopes
from beatstream.redact import redact_text
from beatstream.stores.clients import create_mongo_client

T = TypeVar("T")
console = Console(stderr=True)
app = typer.Typer(help="Partner API keys: create (shown once), list, revoke.", no_args_is_help=True)


@asynccontextmanager
async def _beanie() -> AsyncIterator[None]:
    settings = load_settings()
    client = create_mongo_client(settings.mongodb)
    try:
        await init_beanie(
            database=client[settings.mongodb.db], document_models=[ApiKey, AuditEntry]
        )
        yield
    finally:
        await client.close()


def _run(action: Callable[[], Awaitable[T]]) -> T:
    async def wrapped() -> T:
        async with _beanie():
            return await action()

    try:
        return asyncio.run(wrapped())
    except PyMongoError as exc:
        console.print(f"[bold red]error:[/] MongoDB: {redact_text(str(exc))}", highlight=False)
        raise typer.Exit(code=1) from None


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="The partner, e.g. acme.")],
    scopes: Annotated[
        list[str],
        typer.Option(
            "--scopes",
            "--scope",
            help=f"Repeat or comma-separate. Known: {', '.join(sorted(KNOWN_SCOPES))}.",
        ),
    ],
    rate_limit: Annotated[
        int | None,
        typer.Option(min=1, help="Requests per rate-limit window; default RATELIMIT_KEY_LIMIT."),
    ] = None,
) -> None:
    """Mint a key and print it once: only its SHA-256 is stored, it cannot be shown again."""
    try:
        # Checked before connecting, so a typo is exit 2 even with MongoDB down.
        normalize_scopes(scopes)
        plaintext, key = _run(lambda: service.create_key(name, scopes, rate_limit))
    except ValueError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None
    console.print(
        f"created key {key.key_id} for {key.name} ({', '.join(key.scopes)}); "
        "store it now, it is shown only this once:",
        highlight=False,
    )
    typer.echo(plaintext)


@app.command("list")
def list_keys() -> None:
    """Every key, oldest first: id, partner, scopes, limit, created, revoked (never secrets)."""
    keys = _run(service.list_keys)
    for key in (ApiKeyOut.model_validate(k) for k in keys):
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        limit = str(key.rate_limit) if key.rate_limit is not None else "default"
        typer.echo(
            f"{key.key_id}  {key.name}  {','.join(key.scopes)}  limit={limit}  "
            f"created={key.created_at.isoformat()}  revoked={revoked}"
        )


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (16 hex digits).")]) -> None:
    """Revoke a key: refused from its next request on."""
    if not _run(lambda: service.revoke_key(key_id)):
        console.print(f"[bold red]error:[/] no live key with id {key_id}", highlight=False)
        raise typer.Exit(code=1)
    console.print(f"revoked key {key_id}", highlight=False)
