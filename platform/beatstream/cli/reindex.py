"""`beatstream reindex songs|plays`: rebuild a search index from MongoDB, swap, and
invalidate the cached answers read from it (done by the pipeline functions)."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from beatstream.cache.store import ResponseCache
from beatstream.cli.settings import load_settings
from beatstream.errors import StoreUnavailableError
from beatstream.search.indices import ensure_search_indices
from beatstream.stores import close_stores, open_stores, require_all_up
from pipelines.reindex import ReindexReport, reindex_songs
from pipelines.reindex_plays import reindex_plays

console = Console(stderr=True)


class Target(StrEnum):
    songs = "songs"
    plays = "plays"


REBUILDS = {Target.songs: reindex_songs, Target.plays: reindex_plays}
SOURCES = {Target.songs: "songs", Target.plays: "play_events"}


async def _reindex(target: Target, batch_size: int, concurrency: int) -> ReindexReport:
    settings = load_settings()
    stores = open_stores(settings)
    try:
        await require_all_up(stores, settings.startup.ping_timeout_s)
        await ensure_search_indices(stores.es, settings.elasticsearch)
        total = await stores.mongo_db[SOURCES[target]].estimated_document_count()
        columns = (
            TextColumn(target.value),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(target.value, total=total)
            return await REBUILDS[target](
                stores.mongo_db,
                stores.es,
                settings.elasticsearch,
                batch_size=batch_size,
                concurrency=concurrency,
                cache=ResponseCache(stores.redis, settings.redis.key_prefix),
                progress=lambda n: progress.advance(task, n),
            )
    finally:
        await close_stores(stores)


def reindex(
    target: Annotated[Target, typer.Argument(help="What to rebuild.")],
    batch_size: Annotated[
        int, typer.Option(min=100, max=20_000, help="Documents per bulk request.")
    ] = 2000,
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="Bulk requests in flight.")] = 2,
) -> None:
    """Stream MongoDB into a new index (plays: a new generation of monthly indices), verify
    the count, swap the alias, drop the old index."""
    try:
        report = asyncio.run(_reindex(target, batch_size, concurrency))
    except StoreUnavailableError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(code=1) from None
    console.print(
        f"{target.value}: {report.indexed} of {report.source_count} indexed into {report.index} "
        f"in {report.seconds:.1f}s ({report.docs_per_s:,.0f} docs/s); "
        f"dead letters: {report.dead_letters}",
        highlight=False,
    )
    if report.cache_invalidated is False:
        console.print(
            f"[bold red]warning:[/] Redis refused the cache bump: cached {target.value} answers"
            " may be stale until the next sync batch; run the reindex again once Redis is up",
            highlight=False,
        )
    if report.dead_letters or report.cache_invalidated is False:
        raise typer.Exit(code=1)
