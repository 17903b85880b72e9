"""The three partner views, defined once as MongoDB aggregation pipelines.

Each pipeline is pure data: no secret and no personal value may appear in it, because
anyone who can list collections can read a view's definition. Consent is the first
stage of every view, and a listener without a stored pseudonymous key (`listener_key`,
see `pseudonyms.py`) never passes it.

Two ways to run one definition: where the server has real views, `ensure_views`
creates them at start (`viewOn` + pipeline) and re-creates any whose definition
changed (`collMod`, so the view is never missing in between); where it does not
(mongo-java-server says "ok" and makes a plain collection), the repository runs the
same pipeline over the base collection. Which mode is active follows the `views`
capability detected at start (by trying, never by the server's name).

The small-cell threshold `k` is a literal in the aggregate pipelines, so changing
`THIRDPARTY_MIN_GROUP_SIZE` changes the definition and re-creates the views.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import bson
import orjson
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.stores.clients import MongoDocument

logger = logging.getLogger(__name__)

Stage = dict[str, Any]

WEEK_MS = 7 * 86_400_000
# A Monday: (instant - this) mod one week is the time since that week's Monday 00:00 UTC.
MONDAY_EPOCH = datetime(1970, 1, 5, tzinfo=UTC)

CONSENTING = {"consent_to_share_data": True, "listener_key": {"$type": "string"}}


class ViewName(StrEnum):
    LISTENER_ACTIONS = "listener_actions"
    SUBSCRIPTIONS_BY_MONTH = "subscriptions_by_month"
    PLAY_STATS = "play_stats"


class ViewMode(StrEnum):
    VIEW = "view"  # the server's own views
    PIPELINE = "pipeline"  # the same pipeline run over the base collection


@dataclass(frozen=True)
class ViewDefinition:
    """`sort_field` orders pages (unique per row). `per_row`: after the first `$match`
    every stage maps one document to one row and keeps `sort_field`, so paging stages
    may run right after that `$match` (what MongoDB's optimiser does for a real view),
    instead of after projecting the whole collection."""

    name: ViewName
    base: str
    pipeline: list[Stage]
    sort_field: str
    per_row: bool

    @property
    def digest(self) -> str:
        canonical = orjson.dumps(
            {"base": self.base, "pipeline": self.pipeline}, option=orjson.OPT_SORT_KEYS
        )
        return hashlib.sha256(canonical).hexdigest()[:16]


def _month(date: str) -> Stage:
    return {"$dateToString": {"format": "%Y-%m", "date": date}}


def _age_band() -> Stage:
    low = {"$toInt": {"$subtract": ["$year_of_birth", {"$mod": ["$year_of_birth", 5]}]}}
    return {"$concat": [{"$toString": low}, "-", {"$toString": {"$add": [low, 4]}}]}


def _week_start(date: str) -> Stage:
    """The Monday (UTC) of `date`'s ISO week, "YYYY-MM-DD": date arithmetic only, since
    `$isoWeek`/`$dateTrunc` are missing on the stand-in."""
    since_monday = {"$mod": [{"$subtract": [date, MONDAY_EPOCH]}, WEEK_MS]}
    return {"$dateToString": {"format": "%Y-%m-%d", "date": {"$subtract": [date, since_monday]}}}


def listener_actions() -> ViewDefinition:
    """One row per consenting listener: key, country, 5-year age band, actions by month.

    `updated_at` stays in the view only for the change feed's ordering; no API
    response model has it, and the feed's cursors that carry it are sealed.
    """
    pipeline: list[Stage] = [
        {"$match": CONSENTING},
        {
            "$project": {
                "_id": 0,
                "listener_key": 1,
                "country": 1,
                "updated_at": 1,
                "age_band": _age_band(),
                "actions": {
                    "$map": {
                        "input": {"$ifNull": ["$actions", []]},
                        "as": "a",
                        "in": {
                            "action": "$$a.action",
                            "month": _month("$$a.date"),
                            "amount": "$$a.amount",
                        },
                    }
                },
            }
        },
    ]
    return ViewDefinition(ViewName.LISTENER_ACTIONS, "listeners", pipeline, "listener_key", True)


def subscriptions_by_month(k: int) -> ViewDefinition:
    """Listeners (distinct), actions and revenue per month x country x plan, groups of
    fewer than `k` listeners dropped. `$sum` skips the missing amounts of unsubscriptions."""
    pipeline: list[Stage] = [
        {"$match": CONSENTING},
        {"$unwind": "$actions"},
        {
            "$group": {
                "_id": {
                    "month": _month("$actions.date"),
                    "country": "$country",
                    "plan": "$actions.action",
                },
                "listeners": {"$addToSet": "$_id"},
                "actions": {"$sum": 1},
                "revenue": {"$sum": "$actions.amount"},
            }
        },
        {
            "$project": {
                "_id": 0,
                "month": "$_id.month",
                "country": "$_id.country",
                "plan": "$_id.plan",
                "listeners": {"$size": "$listeners"},
                "actions": 1,
                "revenue": 1,
            }
        },
        {"$match": {"listeners": {"$gte": k}}},
        {"$addFields": {"row_key": {"$concat": ["$month", "|", "$country", "|", "$plan"]}}},
    ]
    return ViewDefinition(ViewName.SUBSCRIPTIONS_BY_MONTH, "listeners", pipeline, "row_key", False)


def play_stats(k: int) -> ViewDefinition:
    """Plays and distinct listeners per song x country x week, groups under `k` dropped.

    Consent is read from the listener at query time (`$lookup`), after a first group
    by listener has shrunk the plays to one row per listener, song, country and week:
    a withdrawal takes effect at once without rewriting any play.
    """
    pipeline: list[Stage] = [
        {
            "$group": {
                "_id": {
                    "song": "$song_id",
                    "country": "$country",
                    "week": _week_start("$played_at"),
                    "listener": "$listener_id",
                },
                "plays": {"$sum": 1},
            }
        },
        {
            "$lookup": {
                "from": "listeners",
                "localField": "_id.listener",
                "foreignField": "_id",
                "as": "who",
            }
        },
        {"$match": {"who": {"$elemMatch": CONSENTING}}},
        {
            "$group": {
                "_id": {"song": "$_id.song", "country": "$_id.country", "week": "$_id.week"},
                "plays": {"$sum": "$plays"},
                "listeners": {"$sum": 1},
            }
        },
        {"$match": {"listeners": {"$gte": k}}},
        {
            "$project": {
                "_id": 0,
                "song_id": {"$toString": "$_id.song"},
                "country": "$_id.country",
                "week": "$_id.week",
                "plays": 1,
                "listeners": 1,
            }
        },
        {"$addFields": {"row_key": {"$concat": ["$week", "|", "$country", "|", "$song_id"]}}},
    ]
    return ViewDefinition(ViewName.PLAY_STATS, "play_events", pipeline, "row_key", False)


def build_views(min_group_size: int) -> dict[ViewName, ViewDefinition]:
    views = (
        listener_actions(),
        subscriptions_by_month(min_group_size),
        play_stats(min_group_size),
    )
    return {view.name: view for view in views}


@dataclass(frozen=True)
class ActiveViews:
    """The definitions and how they are run in this process (kept on the app state)."""

    mode: ViewMode
    definitions: dict[ViewName, ViewDefinition] = field(default_factory=dict)
    # Whether the server's aggregation cursors honour `batchSize` (capability
    # `aggregate_batches`); when not, a whole-view export goes page by page.
    streams_aggregations: bool = True

    def __getitem__(self, name: ViewName) -> ViewDefinition:
        return self.definitions[name]


class ViewConflictError(RuntimeError):
    """A collection that is not a view already holds a view's name: never dropped for us."""


def _normalised(pipeline: list[Stage], db: AsyncDatabase[MongoDocument]) -> Any:
    """The pipeline as the server will hand it back (BSON round trip with our codec)."""
    return bson.decode(bson.encode({"p": pipeline}), codec_options=db.codec_options)["p"]


async def ensure_views(
    db: AsyncDatabase[MongoDocument],
    views: dict[ViewName, ViewDefinition],
    *,
    server_has_views: bool,
) -> ActiveViews:
    """Create or update the real views when the server has them; else the pipeline mode.

    A view is up to date when the server's `viewOn` and pipeline equal ours; otherwise
    `collMod` replaces its definition in place. A plain collection under a view's name
    stops start-up: it holds someone's data, and guessing is not our call.
    """
    if not server_has_views:
        logger.info("third-party views run as pipelines: the server has no views")
        return ActiveViews(ViewMode.PIPELINE, views)
    names = [str(name) for name in views]
    cursor = await db.list_collections(filter={"name": {"$in": names}})
    existing = {info["name"]: info async for info in cursor}
    for view in views.values():
        current = existing.get(view.name)
        if current is None:
            await db.create_collection(view.name, viewOn=view.base, pipeline=view.pipeline)
            logger.info("view created", extra={"view": view.name, "digest": view.digest})
        elif current.get("type") != "view":
            raise ViewConflictError(f"{view.name!r} exists and is not a view; rename or drop it")
        elif current.get("options", {}).get("viewOn") != view.base or current.get(
            "options", {}
        ).get("pipeline") != _normalised(view.pipeline, db):
            await db.command({"collMod": view.name, "viewOn": view.base, "pipeline": view.pipeline})
            logger.info("view redefined", extra={"view": view.name, "digest": view.digest})
    return ActiveViews(ViewMode.VIEW, views)
