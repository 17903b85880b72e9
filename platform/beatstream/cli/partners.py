"""`beatstream partners backfill-keys`: give keyless listeners their pseudonymous key.

`beatstream thirdparty ...` is the same group under its old name, kept as an alias so
existing runbooks and cron jobs keep working.

Listeners written before the third-party views existed, or bulk-loaded without
`THIRDPARTY_PSEUDONYM_SECRET`, have no `listener_key` and so appear in no partner view.
This computes it with the configured secret, in batches; safe to run again (a keyed
listener is never touched). Exit 2 when the secret is not set: an ephemeral one would
store keys that no server process can reproduce.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from beanie import init_beanie

from beatstream.cli.settings import load_settings
from beatstream.documents import DOCUMENT_MODELS
from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.partners.views.service import backfill_listener_keys
from beatstream.settings import Settings
from beatstream.stores.clients import create_mongo_client

app = typer.Typer(help="Partner access: the masked views' listener keys.", no_args_is_help=True)


async def _backfill(settings: Settings, pseudonyms: Pseudonyms, batch_size: int) -> int:
    client = create_mongo_client(settings.mongodb)
    try:
        await init_beanie(database=client[settings.mongodb.db], document_models=DOCUMENT_MODELS)
        return await backfill_listener_keys(pseudonyms, batch_size)
    finally:
        await client.close()


def pseudonyms_or_none(settings: Settings) -> Pseudonyms | None:
    secret = settings.thirdparty.pseudonym_secret
    return Pseudonyms(secret.get_secret_value().encode()) if secret else None


@app.command("backfill-keys")
def backfill_keys(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Listeners per write.")] = 1000,
) -> None:
    """Key every listener that has no pseudonymous key yet (THIRDPARTY_PSEUDONYM_SECRET)."""
    settings = load_settings()
    pseudonyms = pseudonyms_or_none(settings)
    if pseudonyms is None:
        typer.echo("error: set THIRDPARTY_PSEUDONYM_SECRET (32+ characters) first", err=True)
        raise typer.Exit(code=2)
    keyed = asyncio.run(_backfill(settings, pseudonyms, batch_size))
    typer.echo(f"{keyed:,} listeners keyed")
