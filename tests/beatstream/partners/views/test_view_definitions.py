"""The view definitions themselves: no personal field or secret, k in the definition,
week buckets, and both ways of running them (real views where the server has them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.partners.views.definitions import (
    ViewConflictError,
    ViewMode,
    ViewName,
    _week_start,
    build_views,
    ensure_views,
)
from beatstream.stores.clients import MongoDocument
from tests.beatstream.partners.views.data import PSEUDONYMS, insert_in_batches, listener_document


def test_pipelines_name_no_personal_field_and_hold_no_secret() -> None:
    for view in build_views(5).values():
        text = orjson.dumps(view.pipeline, default=str)
        for personal in (b'"$name"', b'"$email"', b'$year_of_birth"}', b'"name"', b'"email"'):
            assert personal not in text, (view.name, personal)
        assert b"t" * 32 not in text
        assert view.pipeline[0] != {}


def test_the_minimum_group_size_is_part_of_the_definition() -> None:
    five, six = build_views(5), build_views(6)
    assert five[ViewName.LISTENER_ACTIONS].digest == six[ViewName.LISTENER_ACTIONS].digest
    for name in (ViewName.SUBSCRIPTIONS_BY_MONTH, ViewName.PLAY_STATS):
        assert five[name].digest != six[name].digest
        assert {"$match": {"listeners": {"$gte": 6}}} in six[name].pipeline


@pytest.mark.parametrize(
    ("played_at", "monday"),
    [
        (datetime(2024, 3, 4, 0, 0, tzinfo=UTC), "2024-03-04"),  # Monday midnight
        (datetime(2024, 3, 10, 23, 59, 59, tzinfo=UTC), "2024-03-04"),  # Sunday night
        (datetime(2024, 3, 11, 0, 0, tzinfo=UTC), "2024-03-11"),
        (datetime(2021, 1, 1, 12, tzinfo=UTC), "2020-12-28"),  # across a year end
        (datetime(2024, 2, 29, 12, tzinfo=UTC), "2024-02-26"),  # leap day
    ],
)
async def test_week_start_is_the_monday_of_the_iso_week(
    mongo_db: AsyncDatabase[MongoDocument], played_at: datetime, monday: str
) -> None:
    await mongo_db.plays.insert_one({"played_at": played_at})
    cursor = await mongo_db.plays.aggregate(
        [{"$project": {"_id": 0, "week": _week_start("$played_at")}}]
    )
    assert await cursor.to_list(None) == [{"week": monday}]
    assert datetime.fromisoformat(monday).weekday() == 0
    assert played_at - datetime.fromisoformat(monday).replace(tzinfo=UTC) < timedelta(days=7)


async def test_pipeline_mode_creates_nothing(mongo_db: AsyncDatabase[MongoDocument]) -> None:
    active = await ensure_views(mongo_db, build_views(5), server_has_views=False)
    assert active.mode is ViewMode.PIPELINE
    assert not set(await mongo_db.list_collection_names()) & {str(name) for name in ViewName}


@pytest.mark.requires_mongo("views")
async def test_real_views_are_created_then_redefined_when_k_changes(
    mongo_capabilities: object, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    await insert_in_batches(mongo_db, [listener_document() for _ in range(3)])
    active = await ensure_views(mongo_db, build_views(5), server_has_views=True)
    assert active.mode is ViewMode.VIEW
    info = {c["name"]: c async for c in await mongo_db.list_collections()}
    assert info["listener_actions"]["type"] == "view"
    assert len(await mongo_db.listener_actions.find().to_list(None)) == 3

    await ensure_views(mongo_db, build_views(7), server_has_views=True)
    info = {c["name"]: c async for c in await mongo_db.list_collections()}
    assert {"$match": {"listeners": {"$gte": 7}}} in info["play_stats"]["options"]["pipeline"]
    rows = await mongo_db.listener_actions.find({}, {"_id": 0, "listener_key": 1}).to_list(None)
    assert {row["listener_key"] for row in rows} <= {
        PSEUDONYMS.listener_key(d["_id"]) for d in await mongo_db.listeners.find().to_list(None)
    }


@pytest.mark.requires_mongo("views")
async def test_a_plain_collection_under_a_view_name_stops_start_up(
    mongo_capabilities: object, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    await mongo_db.play_stats.insert_one({"somebody's": "data"})
    with pytest.raises(ViewConflictError, match="play_stats"):
        await ensure_views(mongo_db, build_views(5), server_has_views=True)
    assert await mongo_db.play_stats.count_documents({}) == 1
