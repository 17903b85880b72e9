"""Full reindex against the real MongoDB-wire server and Elasticsearch."""

from __future__ import annotations

import random
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.search.indices import SONGS, alias_targets, ensure_search_indices
from beatstream.search.repository import bulk_index_songs
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from pipelines import dead_letters
from pipelines.reindex import reindex_songs
from tests.fixtures.search import song_row


@pytest.fixture
async def songs_in_mongo(
    mongo_db: AsyncDatabase[MongoDocument], rng: random.Random
) -> list[dict[str, Any]]:
    rows = [song_row(rng) for _ in range(120)]
    await mongo_db.songs.insert_many(rows)
    return rows


async def test_reindex_builds_a_new_index_and_swaps_the_alias(
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    es_prefix: str,
    songs_in_mongo: list[dict[str, Any]],
) -> None:
    await ensure_search_indices(es_client, settings.elasticsearch)
    alias = SONGS.alias(es_prefix)
    before = await alias_targets(es_client, alias)
    seen_during_load: list[int] = []

    async def count_alias() -> int:
        return int((await es_client.count(index=alias))["count"])

    progressed: list[int] = []
    report = await reindex_songs(
        mongo_db,
        es_client,
        settings.elasticsearch,
        cache=None,
        batch_size=25,
        progress=progressed.append,
    )
    seen_during_load.append(await count_alias())

    after = await alias_targets(es_client, alias)
    assert after == [report.index] != before
    assert not await es_client.indices.exists(index=before[0])
    assert report.source_count == report.indexed == len(songs_in_mongo)
    assert sum(progressed) == len(songs_in_mongo)
    assert seen_during_load == [len(songs_in_mongo)]
    settings_after = await es_client.indices.get_settings(index=report.index)
    index_settings = settings_after[report.index]["settings"]["index"]
    assert index_settings.get("refresh_interval") in (None, "1s")


async def test_readers_see_the_old_index_until_the_swap(
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    es_prefix: str,
    songs_in_mongo: list[dict[str, Any]],
    rng: random.Random,
) -> None:
    """Counted through the alias by a second (blocking) client while chunks land."""
    await ensure_search_indices(es_client, settings.elasticsearch)
    alias = SONGS.alias(es_prefix)
    old_rows = [song_row(rng) for _ in range(3)]
    await bulk_index_songs(es_client, alias, old_rows, refresh=True)
    observer = Elasticsearch(settings.elasticsearch.hosts)
    seen: list[int] = []

    def during(_: int) -> None:
        seen.append(int(observer.count(index=alias)["count"]))

    try:
        await reindex_songs(
            mongo_db, es_client, settings.elasticsearch, cache=None, batch_size=30, progress=during
        )
    finally:
        observer.close()

    assert len(seen) >= 4
    assert set(seen) == {len(old_rows)}
    assert int((await es_client.count(index=alias))["count"]) == len(songs_in_mongo)


async def test_bad_documents_go_to_dead_letters_and_the_rest_is_indexed(
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    settings: Settings,
    es_prefix: str,
    songs_in_mongo: list[dict[str, Any]],
    rng: random.Random,
) -> None:
    await ensure_search_indices(es_client, settings.elasticsearch)
    broken = song_row(rng)
    del broken["album"]  # cannot be transformed
    rejected = song_row(rng, views_per_country={"XX": 1})  # refused by the strict mapping
    await mongo_db.songs.insert_many([broken, rejected])

    report = await reindex_songs(
        mongo_db, es_client, settings.elasticsearch, cache=None, batch_size=50
    )

    assert report.indexed == len(songs_in_mongo)
    assert report.dead_letters == 2
    assert await dead_letters.count(mongo_db, "reindex") == 2
    letters = {d["doc_id"]: d["reason"] async for d in mongo_db[dead_letters.COLLECTION].find()}
    assert letters[str(broken["_id"])].startswith("transform")
    assert "strict" in letters[str(rejected["_id"])]
