"""The three views through `/v1/thirdparty/{view}`: masking, consent, small cells, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.stores.clients import MongoDocument
from tests.beatstream.partners.views.data import (
    insert_in_batches,
    listener_document,
    many_listeners,
)
from tests.fixtures.catalog import Factory

ROW_FIELDS = {"listener_key", "country", "age_band", "actions"}
MARCH = datetime(2024, 3, 7, 10, 30, tzinfo=UTC)  # a Thursday


async def _get(client: httpx.AsyncClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    response = await client.get(f"/v1/thirdparty/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_listener_actions_publishes_only_consenting_listeners_masked(
    client: httpx.AsyncClient, partner_headers: dict[str, str], make_listener: Factory
) -> None:
    shared = await make_listener(
        name="Grace Hopper",
        year_of_birth=1987,
        country="IT",
        consent_to_share_data=True,
        actions=[
            {"action": "premium subscription", "date": "2024-03-07T10:30:00Z", "amount": "9.99"},
            {"action": "unsubscription", "date": "2024-05-02T08:00:00Z"},
        ],
    )
    private = await make_listener(name="Alan Turing", consent_to_share_data=False)

    response = await client.get("/v1/thirdparty/listener_actions", headers=partner_headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["view"] == "listener_actions"
    assert body["next_cursor"] is None
    [row] = body["items"]
    assert set(row) == ROW_FIELDS
    assert row["country"] == "IT"
    assert row["age_band"] == "1985-1989"
    assert row["actions"] == [
        {"action": "premium subscription", "month": "2024-03", "amount": "9.99"},
        {"action": "unsubscription", "month": "2024-05", "amount": None},
    ]
    for personal in (shared["name"], shared["email"], private["email"], shared["id"], "2024-03-07"):
        assert personal.encode() not in response.content
    assert response.headers["cache-control"] == "private, no-cache"


async def test_registration_stores_a_key_the_listener_api_never_shows(
    client: httpx.AsyncClient, make_listener: Factory, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    listener = await make_listener()
    stored = await mongo_db.listeners.find_one({"_id": ObjectId(listener["id"])})
    assert stored is not None
    assert isinstance(stored["listener_key"], str)
    assert len(stored["listener_key"]) == 24
    assert "listener_key" not in listener
    fetched = await client.get(f"/v1/listeners/{listener['id']}")
    assert "listener_key" not in fetched.json()


async def test_pages_walk_the_whole_view_once(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    await insert_in_batches(mongo_db, many_listeners(25))
    await insert_in_batches(mongo_db, [listener_document(keyed=False)])  # never shown
    keys: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        body = await _get(client, partner_headers, "listener_actions", **params)
        keys += [row["listener_key"] for row in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(keys) == 25
    assert keys == sorted(set(keys))


async def test_subscriptions_by_month_drops_groups_under_k(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    italians = [
        listener_document(country="IT", actions=[("premium subscription", MARCH)]) for _ in range(5)
    ]
    britons = [
        listener_document(country="GB", actions=[("basic subscription", MARCH)]) for _ in range(4)
    ]
    refusers = [
        listener_document(country="GB", consent=False, actions=[("basic subscription", MARCH)])
        for _ in range(3)
    ]
    await insert_in_batches(mongo_db, italians + britons + refusers)

    body = await _get(client, partner_headers, "subscriptions_by_month")

    assert body["items"] == [
        {
            "month": "2024-03",
            "country": "IT",
            "plan": "premium subscription",
            "listeners": 5,
            "actions": 5,
            "revenue": "49.95",
        }
    ]


async def test_play_stats_counts_consenting_plays_per_week_above_k(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    consenting = [listener_document() for _ in range(5)]
    refusing = listener_document(consent=False)
    await insert_in_batches(mongo_db, [*consenting, refusing])
    song, rare_song = ObjectId(), ObjectId()
    plays = [
        {
            "listener_id": who["_id"],
            "song_id": song,
            "played_at": MARCH + timedelta(days=day),
            "country": "IT",
            "ms_played": 180_000,
        }
        for who in [*consenting, refusing]
        for day in (0, 3)  # Thursday and Sunday: the same ISO week
    ]
    plays += [
        {
            "listener_id": who["_id"],
            "song_id": rare_song,
            "played_at": MARCH,
            "country": "IT",
            "ms_played": 180_000,
        }
        for who in consenting[:4]
    ]
    await mongo_db.play_events.insert_many(plays)

    body = await _get(client, partner_headers, "play_stats")

    assert body["items"] == [
        {"song_id": str(song), "country": "IT", "week": "2024-03-04", "plays": 10, "listeners": 5}
    ]


async def test_ndjson_exports_every_row_as_one_line(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    await insert_in_batches(mongo_db, many_listeners(1234))
    await insert_in_batches(mongo_db, [listener_document(consent=False)])

    response = await client.get(
        "/v1/thirdparty/listener_actions", params={"format": "ndjson"}, headers=partner_headers
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [orjson.loads(line) for line in response.content.splitlines()]
    assert len(rows) == 1234
    assert all(set(row) == ROW_FIELDS for row in rows)
    assert len({row["listener_key"] for row in rows}) == 1234


async def test_every_pull_is_audited_with_its_row_count(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    await insert_in_batches(mongo_db, many_listeners(30))
    await _get(client, partner_headers, "listener_actions", limit=7)
    ndjson = await client.get(
        "/v1/thirdparty/listener_actions", params={"format": "ndjson"}, headers=partner_headers
    )
    assert ndjson.status_code == 200

    rows = await mongo_db.audit_log.find({}, {"_id": 0}).sort("_id", 1).to_list(None)
    assert [(r["view"], r["format"], r["rows"]) for r in rows] == [
        ("listener_actions", "json", 7),
        ("listener_actions", "ndjson", 30),
    ]
    assert rows[0]["filters"] == {"limit": "7"}
