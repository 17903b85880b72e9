"""Consent withdrawal and erasure: gone from every view at once, cached answers included,
and announced to partners on the change feed."""

from __future__ import annotations

from typing import Any

import httpx
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.stores.clients import MongoDocument
from tests.fixtures.catalog import Factory

ACTION = {"action": "premium subscription", "date": "2024-03-07T10:30:00Z", "amount": "9.99"}


async def _keys(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[set[str], str]:
    response = await client.get("/v1/thirdparty/listener_actions", headers=headers)
    assert response.status_code == 200, response.text
    return {row["listener_key"] for row in response.json()["items"]}, response.headers["x-cache"]


async def _key_of(db: AsyncDatabase[MongoDocument], listener_id: str) -> str:
    stored = await db.listeners.find_one({"_id": ObjectId(listener_id)})
    assert stored is not None
    key: str = stored["listener_key"]
    return key


async def _feed(client: httpx.AsyncClient, headers: dict[str, str], since: str) -> Any:
    response = await client.get(
        "/v1/thirdparty/listener_actions", params={"changes_since": since}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_withdrawn_consent_leaves_even_a_cached_page_at_once(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    leaving = await make_listener(consent_to_share_data=True, actions=[ACTION])
    staying = await make_listener(consent_to_share_data=True, actions=[ACTION])
    leaving_key, staying_key = (
        await _key_of(mongo_db, leaving["id"]),
        await _key_of(mongo_db, staying["id"]),
    )
    assert await _keys(client, partner_headers) == ({leaving_key, staying_key}, "miss")
    assert await _keys(client, partner_headers) == ({leaving_key, staying_key}, "hit")

    patched = await client.patch(
        f"/v1/listeners/{leaving['id']}", json={"consent_to_share_data": False}
    )
    assert patched.status_code == 200

    assert await _keys(client, partner_headers) == ({staying_key}, "miss")
    export = await client.get(
        "/v1/thirdparty/listener_actions", params={"format": "ndjson"}, headers=partner_headers
    )
    assert leaving_key.encode() not in export.content
    assert staying_key.encode() in export.content


async def test_erased_listener_leaves_every_view(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    listener = await make_listener(consent_to_share_data=True, actions=[ACTION])
    key = await _key_of(mongo_db, listener["id"])
    assert (await _keys(client, partner_headers))[0] == {key}

    assert (await client.delete(f"/v1/listeners/{listener['id']}")).status_code == 204

    assert (await _keys(client, partner_headers))[0] == set()
    feed = await _feed(client, partner_headers, "0")
    assert feed["items"] == [{"listener_key": key, "removed": True}]


async def test_feed_sends_changes_then_removals_then_nothing_new(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    first = await make_listener(consent_to_share_data=True, actions=[ACTION])
    await make_listener(consent_to_share_data=False)
    first_key = await _key_of(mongo_db, first["id"])

    start = await _feed(client, partner_headers, "0")
    assert [(row["listener_key"], row["removed"]) for row in start["items"]] == [(first_key, False)]
    assert set(start["items"][0]) == {"listener_key", "country", "age_band", "actions", "removed"}

    second = await make_listener(consent_to_share_data=True, actions=[ACTION])
    second_key = await _key_of(mongo_db, second["id"])
    patched = await client.patch(
        f"/v1/listeners/{first['id']}", json={"consent_to_share_data": False}
    )
    assert patched.status_code == 200

    changes = await _feed(client, partner_headers, start["next_cursor"])
    assert [(row["listener_key"], row["removed"]) for row in changes["items"]] == [
        (second_key, False),
        (first_key, True),
    ]
    assert changes["items"][1] == {"listener_key": first_key, "removed": True}

    quiet = await _feed(client, partner_headers, changes["next_cursor"])
    assert quiet["items"] == []
    again = await _feed(client, partner_headers, quiet["next_cursor"])
    assert again["items"] == []


async def test_feed_pages_through_many_changes_without_gaps(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    ids = [(await make_listener(consent_to_share_data=True))["id"] for _ in range(7)]
    for listener_id in ids[:3]:
        response = await client.patch(
            f"/v1/listeners/{listener_id}", json={"consent_to_share_data": False}
        )
        assert response.status_code == 200
    seen: list[tuple[str, bool]] = []
    since = "0"
    for _ in range(10):
        response = await client.get(
            "/v1/thirdparty/listener_actions",
            params={"changes_since": since, "limit": 2},
            headers=partner_headers,
        )
        body = response.json()
        if not body["items"]:
            break
        seen += [(row["listener_key"], row["removed"]) for row in body["items"]]
        since = body["next_cursor"]
    keys = [await _key_of(mongo_db, listener_id) for listener_id in ids]
    assert sorted(seen) == sorted([(k, False) for k in keys[3:]] + [(k, True) for k in keys[:3]])


async def test_re_consenting_listener_comes_back_on_the_feed(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    listener = await make_listener(consent_to_share_data=True)
    key = await _key_of(mongo_db, listener["id"])
    path = f"/v1/listeners/{listener['id']}"
    assert (await client.patch(path, json={"consent_to_share_data": False})).status_code == 200
    assert (await client.patch(path, json={"consent_to_share_data": True})).status_code == 200

    feed = await _feed(client, partner_headers, "0")

    assert [(row["listener_key"], row["removed"]) for row in feed["items"]] == [
        (key, True),
        (key, False),
    ]


async def test_revalidation_is_304_until_a_withdrawal_changes_the_page(
    client: httpx.AsyncClient, partner_headers: dict[str, str], make_listener: Factory
) -> None:
    leaving = await make_listener(consent_to_share_data=True)
    await make_listener(consent_to_share_data=True)
    first = await client.get("/v1/thirdparty/listener_actions", headers=partner_headers)
    etag = first.headers["etag"]
    again = await client.get(
        "/v1/thirdparty/listener_actions", headers={**partner_headers, "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""

    await client.patch(f"/v1/listeners/{leaving['id']}", json={"consent_to_share_data": False})

    after = await client.get(
        "/v1/thirdparty/listener_actions", headers={**partner_headers, "If-None-Match": etag}
    )
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert len(after.json()["items"]) == 1
