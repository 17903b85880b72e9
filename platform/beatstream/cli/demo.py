"""`beatstream demo`: load the first-run demo (seed.demo) into an empty database.

`make serve` runs it before the API. On a database with data it says so and does
nothing (exit 0); `BEATSTREAM_DEMO=false` (or `--skip`) skips it outright. The demo
accounts' passwords and the partner key are printed here once and stored only hashed.
Exit 1 when a store cannot be reached (one line, no traceback).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from elastic_transport import TransportError
from elasticsearch import ApiError
from pymongo.errors import PyMongoError

from beatstream.auth.passwords import Passwords
from beatstream.cache.store import ResponseCache
from beatstream.cli.partners import pseudonyms_or_none
from beatstream.cli.settings import load_settings
from beatstream.redact import redact_text
from beatstream.settings import Settings
from beatstream.stores.clients import create_es_client, create_mongo_client, create_redis_client
from pipelines.derived import DerivedStores
from seed.demo import DEMO_COUNTS, DemoReport, load_demo


async def run_demo(settings: Settings) -> DemoReport | None:
    """The demo against the stores `settings` name; None when the database has data."""
    client = create_mongo_client(settings.mongodb)
    es = create_es_client(settings.elasticsearch)
    redis = create_redis_client(settings.redis)
    cache = ResponseCache(redis, settings.redis.key_prefix)
    try:
        await client.admin.command("ping")
        return await load_demo(
            client[settings.mongodb.db],
            DerivedStores(es, settings.elasticsearch, cache),
            hash_password=Passwords(settings.security).hash,
            pseudonyms=pseudonyms_or_none(settings),
        )
    finally:
        await client.close()
        await es.close()
        await redis.aclose()


def _short(exc: Exception) -> str:
    """The first line of a driver error, passwords masked (no topology dump)."""
    lines = str(exc).splitlines()
    return redact_text(lines[0] if lines else type(exc).__name__)[:300]


def _print(report: DemoReport, settings: Settings) -> None:
    counts = DEMO_COUNTS
    typer.echo(
        f"demo loaded in {report.elapsed_s:.1f}s: {counts.artists} artists, {counts.songs} songs,"
        f" {counts.listeners} listeners, {counts.plays:,} plays"
        f" ({report.plays_since:%Y-%m-%d} to {report.plays_until:%Y-%m-%d}),"
        f" {len(report.playlist_ids)} public playlists; search indices built"
    )
    if not report.keyed_listeners:
        typer.echo(
            "note: THIRDPARTY_PSEUDONYM_SECRET is not set (run `beatstream init`), so the"
            " partner views stay empty until `beatstream partners backfill-keys`",
            err=True,
        )
    api = settings.api
    typer.echo(
        f"\nOpen http://{api.host}:{api.port}/docs and press Authorize"
        " (username = email). Shown this once, stored only hashed:"
    )
    for account in report.accounts:
        typer.echo(f"  {account.role.value:<7} {account.email:<20} password {account.password}")
    typer.echo(f"  partner key (X-API-Key, views:read): {report.partner_key}")
    shown = ", ".join(f"/v1/playlists/{pid}" for pid in report.playlist_ids[:2])
    typer.echo(f"Public playlists (no sign-in needed): {shown}\n")


def demo(
    load: Annotated[
        bool,
        typer.Option(
            "--load/--skip",
            envvar="BEATSTREAM_DEMO",
            help="--skip (or BEATSTREAM_DEMO=false) does nothing: what `make serve` honours.",
        ),
    ] = True,
) -> None:
    """Load a small demo catalogue, accounts and a partner key into an empty database."""
    if not load:
        typer.echo("demo skipped (BEATSTREAM_DEMO=false)")
        return
    settings = load_settings()
    try:
        report = asyncio.run(run_demo(settings))
    except PyMongoError as exc:
        typer.echo(f"error: mongodb at {settings.mongodb.safe_url}: {_short(exc)}", err=True)
        raise typer.Exit(code=1) from None
    except (TransportError, ApiError) as exc:
        es_url = settings.elasticsearch.safe_url
        typer.echo(f"error: elasticsearch at {es_url}: {_short(exc)}", err=True)
        raise typer.Exit(code=1) from None
    if report is None:
        typer.echo(f"demo skipped: database {settings.mongodb.db!r} already has data")
        return
    _print(report, settings)
