"""`beatstream seed`: load (or export, or load from NDJSON) the deterministic catalogue.

A thin wrapper over `seed.load` and `seed.ndjson`: options in, one progress bar per
collection, a per-collection summary out, then what was rebuilt (`--reset`: both search
indices) and which cache namespaces were invalidated. Exit codes: 0 all loaded, 1 some
lines or documents failed (the first few listed with their line numbers), a store
could not be reached (one line, no traceback) or the cache could not be invalidated,
2 bad options or settings.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from elastic_transport import TransportError
from elasticsearch import ApiError
from pymongo.errors import ConnectionFailure, PyMongoError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from beatstream.cache.store import ResponseCache
from beatstream.cli.partners import pseudonyms_or_none
from beatstream.cli.settings import load_settings
from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.partners.views.service import backfill_listener_keys
from beatstream.redact import redact_text
from beatstream.settings import Settings
from beatstream.stores.clients import create_es_client, create_mongo_client, create_redis_client
from pipelines.derived import DerivedReport, DerivedStores
from seed.generate import Counts
from seed.load import LoadReport, load
from seed.ndjson import ExportReport, export_ndjson, load_ndjson

console = Console(stderr=True)
# How many failures to print; the total is always given.
SHOWN_FAILURES = 20


class Bars:
    """One rich progress bar per collection (or file), created on its first report.

    Called from the loader's event loop or from the exporter's worker thread; rich's
    `Progress` takes a lock around updates, so both are safe.
    """

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, collection: str, done: int, total: int | None) -> None:
        if collection not in self._tasks:
            self._tasks[collection] = self._progress.add_task(collection, total=total)
        self._progress.update(self._tasks[collection], completed=done, total=total)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _short(exc: Exception) -> str:
    """First line only, without PyMongo's topology dump; passwords masked."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for noise in (" (configured timeouts", ", Timeout:"):
        text = text.split(noise, 1)[0]
    return redact_text(text)[:300]


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


async def _to_mongo(
    settings: Settings,
    counts: Counts,
    seed_value: int,
    source: Path | None,
    reset: bool,
    batch_size: int,
    pseudonyms: Pseudonyms | None,
) -> LoadReport:
    mongo = settings.mongodb
    client = create_mongo_client(mongo)
    es = create_es_client(settings.elasticsearch)
    redis = create_redis_client(settings.redis)
    cache = ResponseCache(redis, settings.redis.key_prefix)
    derived = DerivedStores(es, settings.elasticsearch, cache)
    try:
        # One round trip first: an unreachable server fails here, before any work.
        await client.admin.command("ping")
        db = client[mongo.db]
        with _progress() as progress:
            bars = Bars(progress)
            if source is not None:
                report = await load_ndjson(
                    db, source, derived=derived, batch_size=batch_size, reset=reset, progress=bars
                )
                if pseudonyms is not None:
                    await backfill_listener_keys(pseudonyms, batch_size)
                return report
            return await load(
                db,
                counts,
                seed_value,
                derived=derived,
                batch_size=batch_size,
                reset=reset,
                progress=bars,
                pseudonyms=pseudonyms,
            )
    finally:
        await client.close()
        await es.close()
        await redis.aclose()


async def _to_files(out: Path, counts: Counts, seed_value: int) -> ExportReport:
    with _progress() as progress:
        return await export_ndjson(out, counts, seed_value, progress=Bars(progress))


def _print_load(report: LoadReport) -> None:
    for collection, written in report.written.items():
        new = report.inserted.get(collection, 0)
        typer.echo(f"{collection:<12} {written:>10,} written ({new:,} new)")
    if report.derived is not None:
        _print_derived(report.derived)
    typer.echo(f"loaded in {report.elapsed_s:.1f}s")
    if report.failed:
        for failure in report.failures[:SHOWN_FAILURES]:
            console.print(f"failed: {failure}", highlight=False, markup=False, soft_wrap=True)
        more = report.failed - min(len(report.failures), SHOWN_FAILURES)
        tail = f" ({more:,} more not shown)" if more else ""
        console.print(
            f"[bold red]{report.failed:,} failed[/]{tail}", highlight=False, soft_wrap=True
        )


def _print_derived(derived: DerivedReport) -> None:
    for rebuilt in derived.rebuilt:
        typer.echo(
            f"reset: rebuilt {rebuilt.index} from MongoDB "
            f"({rebuilt.indexed:,} of {rebuilt.source_count:,} indexed)"
        )
    names = ", ".join(derived.namespaces)
    if derived.cache_invalidated:
        typer.echo(f"cache invalidated: {names}")
    elif derived.cache_invalidated is False:
        console.print(
            f"[bold red]cache NOT invalidated[/] ({names}): Redis refused; cached answers may"
            " be stale until the next sync batch",
            highlight=False,
            soft_wrap=True,
        )


def seed(
    artists: Annotated[int, typer.Option(min=0, help="Artists to generate.")] = 2_000,
    songs: Annotated[int, typer.Option(min=0, help="Songs to generate.")] = 50_000,
    listeners: Annotated[int, typer.Option(min=0, help="Listeners to generate.")] = 20_000,
    plays: Annotated[int, typer.Option(min=0, help="Play events to generate.")] = 1_000_000,
    seed_value: Annotated[
        int, typer.Option("--seed", help="Same seed, same data, every time.")
    ] = 42,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset",
            help="Drop the artists, songs, listeners and play_events first; after the load,"
            " rebuild the songs and play indices from them (Elasticsearch must be up).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", file_okay=False, help="Write NDJSON files here instead of loading."),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            exists=True,
            file_okay=False,
            help="Load these NDJSON files instead of generating (counts and --seed unused).",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Documents per bulk write.")] = 1_000,
) -> None:
    """Load a deterministic streaming catalogue into MONGODB_URL / MONGODB_DB.

    Idempotent: documents have natural keys, so running again replaces rather than
    duplicates. Every load invalidates the cached song, play and partner answers; with
    --reset, the search indices are rebuilt too. Exit 1 if any document failed (listed
    with its line), a store is unreachable, or the cache could not be invalidated.
    """
    if out is not None and source is not None:
        raise typer.BadParameter("give --out or --from, not both")
    try:
        counts = Counts(artists=artists, songs=songs, listeners=listeners, plays=plays)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if out is not None:
        exported = asyncio.run(_to_files(out, counts, seed_value))
        for name, lines in exported.lines.items():
            typer.echo(f"{name:<16} {lines:>10,} lines")
        typer.echo(f"wrote {exported.out_dir} in {exported.elapsed_s:.1f}s")
        return
    settings = load_settings()
    mongo = settings.mongodb
    pseudonyms = pseudonyms_or_none(settings)
    if pseudonyms is None:
        console.print(
            "note: THIRDPARTY_PSEUDONYM_SECRET is not set, so listeners get no pseudonymous"
            " key and stay out of the partner views (`beatstream partners backfill-keys`)",
            highlight=False,
            soft_wrap=True,
        )
    try:
        report = asyncio.run(
            _to_mongo(settings, counts, seed_value, source, reset, batch_size, pseudonyms)
        )
    except ConnectionFailure as exc:
        raise _fail(f"mongodb unreachable at {mongo.safe_url}: {_short(exc)}") from None
    except PyMongoError as exc:
        raise _fail(f"mongodb at {mongo.safe_url}: {_short(exc)}") from None
    except (TransportError, ApiError) as exc:
        es_url = settings.elasticsearch.safe_url
        raise _fail(f"elasticsearch at {es_url}: {_short(exc)}") from None
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    _print_load(report)
    if not report.ok or (report.derived is not None and report.derived.cache_invalidated is False):
        raise typer.Exit(code=1)
