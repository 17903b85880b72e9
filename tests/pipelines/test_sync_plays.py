"""Play events reach the monthly play indices, once each, and the dashboards see them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.search.indices import plays_alias
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from pipelines import checkpoints
from pipelines.sync import SyncOptions
from pipelines.sync_plays import PlaySync
from tests.fixtures.catalog import Factory

FAST = SyncOptions(batch_size=7, settle_s=0.0)


async def _record_plays(
    client: httpx.AsyncClient, listener: str, songs: list[str]
) -> list[dict[str, Any]]:
    events = [
        {
            "listener_id": listener,
            "song_id": song,
            "country": "IT",
            "ms_played": 1000,
            "played_at": f"2024-0{month}-1{day}T10:00:00Z",
        }
        for month, song in zip((1, 2, 2), songs, strict=True)
        for day in range(3)
    ]
    response = await client.post("/v1/plays/batch", json={"events": events})
    assert response.status_code == 201, response.text
    return events


async def test_plays_are_indexed_once_into_their_month_and_counted_by_the_dashboard(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    listener = await make_listener()
    songs = [await make_song(genre="funk") for _ in range(3)]
    events = await _record_plays(search_client, listener["id"], [s["id"] for s in songs])
    sync = PlaySync(mongo_db, es_client, search_settings.elasticsearch, options=FAST)

    assert await sync.catch_up() == len(events)
    assert await sync.catch_up() == 0
    await PlaySync(mongo_db, es_client, search_settings.elasticsearch, options=FAST).apply(
        await mongo_db.play_events.find({}).to_list(None)
    )  # a replay adds nothing
    alias = plays_alias(search_settings.elasticsearch.index_prefix)
    await es_client.indices.refresh(index=alias)

    assert (await es_client.count(index=alias))["count"] == len(events)
    hit = (await es_client.search(index=alias, size=1))["hits"]["hits"][0]["_source"]
    assert hit["genre"] == "funk"
    histogram = await search_client.get(
        "/v1/analytics/plays",
        params={"interval": "month", "from": "2024-01-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"},
    )
    counts = {b["start"][:7]: b["plays"] for b in histogram.json()["buckets"]}
    assert counts == Counter(e["played_at"][:7] for e in events)
    saved = await checkpoints.load(mongo_db, "plays")
    assert saved.applied == len(events)


async def test_sync_status_reports_each_source(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    listener = await make_listener()
    songs = [await make_song() for _ in range(3)]
    await _record_plays(search_client, listener["id"], [s["id"] for s in songs])

    before = (await search_client.get("/v1/admin/sync/status", params={"source": "plays"})).json()
    await PlaySync(mongo_db, es_client, search_settings.elasticsearch, options=FAST).catch_up()
    after = (await search_client.get("/v1/admin/sync/status", params={"source": "plays"})).json()
    songs_status = (await search_client.get("/v1/admin/sync/status")).json()

    assert before["mode"] is None
    assert before["lag_s"] > 0
    assert after["mode"] == "polling"
    assert after["lag_s"] == 0
    assert after["applied"] == 9
    assert after["checkpoint_age_s"] >= 0
    assert songs_status["source"] == "songs"
    assert songs_status["lag_s"] > 0  # three songs written, none synced
    bad = await search_client.get("/v1/admin/sync/status", params={"source": "users"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "source"
