"""`sync --check` for plays, against the real servers: lost and unexpected by id."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.search.indices import ensure_search_indices, plays_index
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from pipelines.check_plays import check_plays
from pipelines.sync import SyncOptions
from pipelines.sync_plays import PlaySync


async def test_check_finds_lost_and_unexpected_plays_and_ignores_those_not_due(
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    es_prefix: str,
    rng: random.Random,
) -> None:
    await ensure_search_indices(es_client, settings.elasticsearch)
    plays = [
        {
            "_id": ObjectId(),
            "listener_id": ObjectId(),
            "song_id": ObjectId(),
            "played_at": datetime(2024, rng.randint(1, 3), 5, tzinfo=UTC),
            "country": "NL",
            "ms_played": 1000,
        }
        for _ in range(30)
    ]
    await mongo_db.play_events.insert_many(plays)
    sync = PlaySync(mongo_db, es_client, settings.elasticsearch, options=SyncOptions(settle_s=0))
    await sync.catch_up()
    assert (await check_plays(mongo_db, es_client, sync.alias)).clean

    lost, gone = plays[3], plays[7]
    month = lost["played_at"]
    await es_client.delete(
        index=plays_index(es_prefix, month.year, month.month), id=str(lost["_id"])
    )
    await mongo_db.play_events.delete_one({"_id": gone["_id"]})
    await mongo_db.play_events.insert_one({**plays[0], "_id": ObjectId()})  # not synced yet

    report = await check_plays(mongo_db, es_client, sync.alias)

    assert report.lost == [str(lost["_id"])]
    assert report.unexpected == [str(gone["_id"])]
    assert (report.in_mongo, report.in_elasticsearch) == (29, 29)


async def test_check_with_no_play_index_and_no_sync_yet_is_clean(
    mongo_db: AsyncDatabase[MongoDocument], es_client: AsyncElasticsearch, es_prefix: str
) -> None:
    report = await check_plays(mongo_db, es_client, f"{es_prefix}-plays")

    assert report.clean
    assert (report.in_mongo, report.in_elasticsearch) == (0, 0)
