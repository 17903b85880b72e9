"""`beatstream charts build --date`: freeze the charts of periods that have closed.

For the day, ISO week and month holding the date, once each has ended: the song and
artist charts, global and for every country with plays in the period, computed by the
very function the API uses for open periods (`analytics.service.chart`) and stored in
`charts` once. Stored charts are never replaced, so a period's chart answers the same
forever; running the build again (cron, a retry after a crash) stores only what is
missing.

A period is frozen only when every play **received** before it ended has been indexed:
no `play_events` between the play sync's watermark and the period's end. Plays that
arrive later for a closed period (a phone back online) count in the counters and in
later live answers, never in a frozen chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.analytics import service
from beatstream.search.indices import plays_alias
from beatstream.settings import ElasticsearchSettings
from pipelines import checkpoints
from pipelines.sync_plays import SOURCE as PLAYS

WINDOWS = ("day", "week", "month")
KINDS: tuple[service.ChartKind, ...] = ("songs", "artists")


@dataclass
class ChartsReport:
    day: date
    stored: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # Windows not frozen, with why (still open, plays not indexed yet).
    skipped: dict[str, str] = field(default_factory=dict)


async def unindexed_before(db: AsyncDatabase[dict[str, Any]], end: datetime) -> int:
    """Plays received before `end` that the play sync has not indexed yet."""
    watermark = (await checkpoints.load(db, PLAYS)).changed_id
    ids: dict[str, Any] = {"$lt": ObjectId.from_datetime(end)}
    if isinstance(watermark, ObjectId):
        ids["$gt"] = watermark
    return await db.play_events.count_documents({"_id": ids})


async def build_charts(
    db: AsyncDatabase[dict[str, Any]],
    es: AsyncElasticsearch,
    config: ElasticsearchSettings,
    day: date,
    *,
    windows: tuple[str, ...] = WINDOWS,
    now: datetime | None = None,
) -> ChartsReport:
    now = now or datetime.now(UTC)
    report = ChartsReport(day)
    await es.indices.refresh(
        index=plays_alias(config.index_prefix), ignore_unavailable=True, allow_no_indices=True
    )
    for window in windows:
        _, start, end = service.period(window, day)
        if end > now:
            report.skipped[window] = f"open until {end.isoformat()}"
            continue
        if pending := await unindexed_before(db, end):
            report.skipped[window] = f"{pending} plays received before its end not indexed yet"
            continue
        countries: list[str | None] = [None]
        countries += await service.countries_played(es, config, start, end)
        for kind in KINDS:
            for country in countries:
                name = f"{kind}:{window}:{start.date().isoformat()}:{country or '*'}"
                stored = await service.freeze(db, es, config, kind, window, day, country)
                (report.stored if stored else report.kept).append(name)
    return report
