"""Audit log: one row per pull, queryable by admins by key, view and time, in pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.partners import service
from beatstream.partners.schemas import PartnerKey
from beatstream.stores.clients import MongoDocument

pytestmark = pytest.mark.usefixtures("client")
AUDIT = "/v1/admin/audit"
ACME = PartnerKey(key_id="a" * 16, name="acme", scopes=frozenset({"views:read"}))
GLOBEX = PartnerKey(key_id="b" * 16, name="globex", scopes=frozenset({"views:read"}))


async def _pull(key: PartnerKey, view: str, rows: int = 10, **filters: str) -> None:
    await service.record_pull(
        key, view=view, filters=filters, rows=rows, fmt="json", request_id=f"req-{rows}"
    )


async def _all_pages(client: httpx.AsyncClient, **params: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(AUDIT, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_record_pull_writes_one_row_with_everything_but_secrets(
    client: httpx.AsyncClient, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    await service.record_pull(
        ACME,
        view="play_stats",
        filters={"country": "SE", "week": "2026-11-23"},
        rows=42,
        fmt="ndjson",
        request_id="abc123",
    )

    rows = await mongo_db.audit_log.find({}, {"_id": 0}).to_list()
    assert len(rows) == 1
    row = rows[0]
    assert row.pop("at") >= before
    assert row == {
        "key_id": ACME.key_id,
        "key_name": "acme",
        "view": "play_stats",
        "filters": {"country": "SE", "week": "2026-11-23"},
        "rows": 42,
        "format": "ndjson",
        "request_id": "abc123",
    }
    listed = (await client.get(AUDIT)).json()
    assert listed["next_cursor"] is None
    assert [item["rows"] for item in listed["items"]] == [42]
    assert set(listed["items"][0]) == {
        "key_id",
        "key_name",
        "view",
        "filters",
        "rows",
        "format",
        "request_id",
        "at",
    }


async def test_audit_pages_are_newest_first_and_lose_nothing(client: httpx.AsyncClient) -> None:
    for rows in range(7):
        await _pull(ACME, "play_stats", rows)

    pages = await _all_pages(client, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [item["rows"] for page in pages for item in page] == [6, 5, 4, 3, 2, 1, 0]


async def test_audit_filters_by_key_and_view(client: httpx.AsyncClient) -> None:
    await _pull(ACME, "play_stats", 1)
    await _pull(ACME, "listener_actions", 2)
    await _pull(GLOBEX, "play_stats", 3)
    await _pull(GLOBEX, "subscriptions_by_month", 4)

    def rows(pages: list[list[dict[str, Any]]]) -> list[int]:
        return [item["rows"] for page in pages for item in page]

    assert rows(await _all_pages(client, key_id=ACME.key_id)) == [2, 1]
    assert rows(await _all_pages(client, view="play_stats")) == [3, 1]
    assert rows(await _all_pages(client, key_id=GLOBEX.key_id, view="play_stats", limit=1)) == [3]
    assert rows(await _all_pages(client, key_id="c" * 16)) == []


async def test_audit_filters_by_time_range(
    client: httpx.AsyncClient, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    for rows in range(3):
        await _pull(ACME, "play_stats", rows)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    async for row in mongo_db.audit_log.find({}):
        await mongo_db.audit_log.update_one(
            {"_id": row["_id"]}, {"$set": {"at": base + timedelta(days=row["rows"])}}
        )

    between = await _all_pages(client, since="2026-01-02T00:00:00Z", until="2026-01-03T00:00:00Z")
    from_the_2nd = await _all_pages(client, since="2026-01-02T01:00:00+01:00")

    assert [item["rows"] for page in between for item in page] == [1]
    assert [item["rows"] for page in from_the_2nd for item in page] == [2, 1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"key_id": "not-a-key-id"}, "key_id"),
        ({"view": "secrets"}, "view"),
        ({"limit": 0}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-02T00:00:00"}, "since"),  # no offset: ambiguous
        ({"until": "253402300800"}, "until"),  # a number is not an instant
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"surprise": "1"}, "surprise"),
    ],
)
async def test_bad_audit_queries_are_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get(AUDIT, params=params)

    assert response.status_code == 422
    assert field in response.json()["detail"]


async def test_the_audit_log_has_indexes_for_each_admin_query(
    client: httpx.AsyncClient, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    indexes = await mongo_db.audit_log.index_information()

    assert indexes["key_at_id"]["key"] == [("key_id", 1), ("at", -1), ("_id", -1)]
    assert indexes["view_at_id"]["key"] == [("view", 1), ("at", -1), ("_id", -1)]
    assert indexes["at_id"]["key"] == [("at", -1), ("_id", -1)]
    assert indexes["at_ttl"]["expireAfterSeconds"] == 400 * 86_400
