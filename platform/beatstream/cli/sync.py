"""`beatstream sync`: keep Elasticsearch in step with MongoDB, or check that it is."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated

import typer
from pymongo.asynchronous.database import AsyncDatabase
from rich.console import Console

from beatstream.cache.store import ResponseCache
from beatstream.cli.settings import load_settings
from beatstream.errors import StoreUnavailableError
from beatstream.metrics.tracing import configure_tracing
from beatstream.search.indices import ensure_search_indices
from beatstream.stores import Stores, close_stores, open_stores, require_all_up
from beatstream.stores.clients import MongoDocument
from pipelines import counters
from pipelines.check import CheckReport, check_songs, repair_songs
from pipelines.check_plays import check_plays
from pipelines.metrics import serve as serve_metrics
from pipelines.rollup import PlayRollup
from pipelines.sync import SongSync, SyncOptions
from pipelines.sync_plays import PlaySync

console = Console(stderr=True)


class SyncMode(StrEnum):
    auto = "auto"
    polling = "polling"
    change_stream = "change_stream"


async def _with_sync(
    batch_size: int,
    rollup_batch_size: int,
    job: Callable[[SongSync, PlaySync, PlayRollup], Awaitable[int]],
) -> int:
    settings = load_settings()
    stores: Stores = open_stores(settings)
    try:
        await require_all_up(stores, settings.startup.ping_timeout_s)
        await ensure_search_indices(stores.es, settings.elasticsearch)
        cache = ResponseCache(stores.redis, settings.redis.key_prefix)
        options = SyncOptions(batch_size=batch_size)
        songs = SongSync(
            stores.mongo_db, stores.es, settings.elasticsearch, cache=cache, options=options
        )
        plays = PlaySync(
            stores.mongo_db, stores.es, settings.elasticsearch, cache=cache, options=options
        )
        rollup = PlayRollup(  # with the cache: it announces the songs it counted
            stores.mongo_db,
            stores.es,
            settings.elasticsearch,
            cache=cache,
            options=SyncOptions(batch_size=rollup_batch_size),
        )
        return await job(songs, plays, rollup)
    finally:
        await close_stores(stores)


async def _follow(songs: SongSync, plays: PlaySync, rollup: PlayRollup, mode: SyncMode) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await asyncio.gather(songs.follow(stop, mode.value), plays.follow(stop), rollup.follow(stop))
    return 0


def _print(source: str, report: CheckReport) -> None:
    for label, ids in (
        ("lost", report.lost),
        ("unexpected", report.unexpected),
        ("stale", report.stale),
    ):
        shown = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
        console.print(f"{source} {label}: {len(ids)}{'  ' + shown if ids else ''}", highlight=False)
    console.print(
        f"{source} mongodb: {report.in_mongo}  elasticsearch: {report.in_elasticsearch}",
        highlight=False,
    )


async def _check_counters(
    db: AsyncDatabase[MongoDocument], repair: bool, cache: ResponseCache | None
) -> bool:
    """Play counters against a recount of `play_events`; with `repair`, recomputed.
    Repaired counters reach Elasticsearch through the next song sync."""
    report = await counters.check(db)
    for drift in report.drift[:10]:
        console.print(
            f"counters drift {drift.song_id}: counted {drift.counted}, plays {drift.expected}",
            highlight=False,
        )
    console.print(
        f"counters drift: {len(report.drift)} of {report.songs} songs ({report.plays} plays)",
        highlight=False,
    )
    if report.clean or not repair:
        return report.clean
    written = await counters.repair(db, report, cache)
    after = await counters.check(db)
    console.print(f"counters recomputed {written}; now clean: {after.clean}", highlight=False)
    return after.clean


async def _check(songs: SongSync, plays: PlaySync, repair: bool) -> int:
    """Songs are checked and (with --repair) repaired; plays are checked only; play
    counters are checked and (with --repair) recomputed."""
    counted = await _check_counters(songs.db, repair, songs.cache)
    if repair and counted:
        await songs.catch_up()  # carry recomputed counters to the songs index
    report = await check_songs(songs.db, songs.es, songs.config)
    _print("songs", report)
    played = await check_plays(plays.db, plays.es, plays.alias)
    _print("plays", played)
    if report.clean:
        return 0 if played.clean and counted else 1
    if not repair:
        return 1
    repaired = await repair_songs(songs, report)
    await songs.es.indices.refresh(index=songs.alias)
    after = await check_songs(songs.db, songs.es, songs.config)
    console.print(f"repaired {repaired}; now clean: {after.clean}", highlight=False)
    return 0 if after.clean and played.clean and counted else 1


def sync(
    follow: Annotated[bool, typer.Option("--follow", help="Apply changes until stopped.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Compare the two stores.")] = False,
    repair: Annotated[
        bool, typer.Option("--repair", help="With --check: fix what differs.")
    ] = False,
    mode: Annotated[SyncMode, typer.Option(help="How to see changes.")] = SyncMode.auto,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=1,
            max=65535,
            help="Serve Prometheus metrics on this port (default: METRICS_SYNC_PORT).",
        ),
    ] = None,
    rollup_batch_size: Annotated[
        int,
        typer.Option(
            min=1,
            max=50_000,
            help="Plays per roll-up batch: bigger batches fold more plays into each "
            "song's one update.",
        ),
    ] = 20_000,
) -> None:
    """Without options: apply every pending change once, then exit."""
    settings = load_settings()
    configure_tracing()
    port = metrics_port or settings.metrics.sync_port
    if port is not None:
        serve_metrics(port, settings.metrics.host)

    async def job(songs: SongSync, plays: PlaySync, rollup: PlayRollup) -> int:
        if follow:
            return await _follow(songs, plays, rollup, mode)
        if check:
            return await _check(songs, plays, repair)
        played = await plays.catch_up()
        counted = await rollup.catch_up()
        applied = await songs.catch_up()  # after the roll-up: carries the new counters
        console.print(
            f"applied {applied} song changes and {played} plays; counted {counted} plays",
            highlight=False,
        )
        return 0

    try:
        code = asyncio.run(_with_sync(batch_size, rollup_batch_size, job))
    except StoreUnavailableError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(code=1) from None
    raise typer.Exit(code=code)
