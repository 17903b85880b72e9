"""`beatstream charts build --date YYYY-MM-DD`: freeze the closed periods' charts
(`pipelines.charts.build_charts`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console

from beatstream.cli.settings import load_settings
from beatstream.errors import StoreUnavailableError
from beatstream.stores import close_stores, open_stores, require_all_up
from pipelines.charts import ChartsReport, build_charts

console = Console(stderr=True)
app = typer.Typer(help="Charts frozen once their period closes.", no_args_is_help=True)


async def _build(day: datetime) -> ChartsReport:
    settings = load_settings()
    stores = open_stores(settings)
    try:
        await require_all_up(stores, settings.startup.ping_timeout_s)
        return await build_charts(stores.mongo_db, stores.es, settings.elasticsearch, day.date())
    finally:
        await close_stores(stores)


@app.command("build")
def build(
    date: Annotated[
        datetime | None,
        typer.Option(
            "--date",
            formats=["%Y-%m-%d"],
            help="A day in the periods to freeze (UTC). Default: yesterday.",
        ),
    ] = None,
) -> None:
    """Freeze the day, week and month holding --date, each once it has closed."""
    day = date or datetime.now(UTC) - timedelta(days=1)
    try:
        report = asyncio.run(_build(day))
    except StoreUnavailableError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(code=1) from None
    for window, why in report.skipped.items():
        console.print(f"{window}: not frozen ({why})", highlight=False)
    console.print(
        f"{report.day}: {len(report.stored)} charts frozen, {len(report.kept)} already frozen",
        highlight=False,
    )
