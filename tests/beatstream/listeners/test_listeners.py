from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.stores.clients import MongoDocument
from seed.builders import listener_payload
from tests.fixtures.auth import ListenerClient
from tests.fixtures.catalog import Factory
from tests.fixtures.tokens import REGISTERED

# A new email needs the account's password again (tests/beatstream/auth/test_reauth.py).
OWN_PASSWORD = "own password 1"

MISSING_ID = "6650f1c2a1b2c3d4e5f60718"
LISTENER_FIELDS = {
    "id",
    "name",
    "email",
    "year_of_birth",
    "country",
    "consent_to_share_data",
    "actions",
    "created_at",
    "updated_at",
    "version",
}


async def test_register_normalises_and_answers_with_location_and_etag(
    client: httpx.AsyncClient, rng: Any
) -> None:
    body = listener_payload(
        rng,
        email="  Ada.Lovelace@Example.COM ",
        country="gb",
        actions=[
            {
                "action": "premium subscription",
                "date": "2024-03-01T10:30:00+01:00",
                "amount": "9.99",
            }
        ],
    )

    response = await client.post("/v1/listeners", json=body)

    assert response.status_code == 201, response.text
    listener = response.json()
    assert response.headers["location"] == f"/v1/listeners/{listener['id']}"
    assert response.headers["etag"] == '"1"'
    assert listener["email"] == "ada.lovelace@example.com"
    assert listener["country"] == "GB"
    assert listener["actions"] == [
        {"action": "premium subscription", "date": "2024-03-01T09:30:00Z", "amount": "9.99"}
    ]
    assert listener["version"] == 1
    fetched = await client.get(f"/v1/listeners/{listener['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == listener
    assert fetched.headers["etag"] == '"1"'


async def test_consent_defaults_to_false(client: httpx.AsyncClient, rng: Any) -> None:
    body = listener_payload(rng)
    del body["consent_to_share_data"]
    response = await client.post("/v1/listeners", json=body)
    assert response.status_code == 201
    assert response.json()["consent_to_share_data"] is False


async def test_get_with_current_etag_is_304(
    client: httpx.AsyncClient, make_listener: Factory
) -> None:
    listener = await make_listener()
    path = f"/v1/listeners/{listener['id']}"
    response = await client.get(path, headers={"If-None-Match": '"1"'})
    assert response.status_code == 304
    assert response.content == b""
    assert (await client.get(path, headers={"If-None-Match": '"2"'})).status_code == 200


async def test_duplicate_email_is_409_whatever_its_case_and_writes_nothing(
    client: httpx.AsyncClient, rng: Any, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    first = await client.post("/v1/listeners", json=listener_payload(rng, email="sam@example.com"))
    assert first.status_code == 201

    second = await client.post("/v1/listeners", json=listener_payload(rng, email="SAM@example.com"))

    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["type"].endswith("/conflict")
    assert "sam@example.com" not in second.text
    assert await mongo_db.listeners.count_documents(REGISTERED) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"owner": "me"}, "owner"),
        ({"id": MISSING_ID}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"version": 7}, "version"),
        ({"name": {"$ne": None}}, "name.$ne"),
        ({"$where": "1"}, "$where"),
        ({"actions": [{"action": "unsubscription", "a.b": 1}]}, "actions[0].a.b"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b.c" + "x" * 300}, "email"),
        ({"email": " " * 10 + "a@b.c" + "x" * 240}, "email"),
        ({"name": "\f"}, "name"),
        ({"name": " " + "x" * 200}, "name"),
        ({"year_of_birth": 1899}, "year_of_birth"),
        ({"year_of_birth": datetime.now(UTC).year + 1}, "year_of_birth"),
        ({"country": "XX"}, "country"),
        ({"consent_to_share_data": "yes"}, "consent_to_share_data"),
        ({"consent_to_share_data": 1}, "consent_to_share_data"),
        ({"actions": [{"action": "gold subscription"}]}, "actions[0].action"),
        ({"actions": [{"action": "unsubscription", "amount": -1}]}, "actions[0].amount"),
        ({"actions": [{"action": "unsubscription", "amount": "1.999"}]}, "actions[0].amount"),
        ({"actions": [{"action": "unsubscription", "amount": "NaN"}]}, "actions[0].amount"),
        # A JSON number with cents is a binary float: which cents it meant is a guess.
        ({"actions": [{"action": "unsubscription", "amount": 9.99}]}, "actions[0].amount"),
        (
            {"actions": [{"action": "unsubscription", "date": "2024-01-01T00:00:00"}]},
            "actions[0].date",
        ),
        (
            {"actions": [{"action": "unsubscription", "date": "2999-01-01T00:00:00Z"}]},
            "actions[0].date",
        ),
    ],
)
async def test_bad_listener_bodies_are_422_naming_the_field_and_write_nothing(
    client: httpx.AsyncClient,
    rng: Any,
    mongo_db: AsyncDatabase[MongoDocument],
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**listener_payload(rng), **change}

    response = await client.post("/v1/listeners", json=body)

    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.text
    assert await mongo_db.listeners.count_documents(REGISTERED) == 0


async def test_responses_publish_only_allow_listed_fields(
    client: httpx.AsyncClient, make_listener: Factory, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    listener = await make_listener()
    await mongo_db.listeners.update_one(
        {"_id": ObjectId(listener["id"])}, {"$set": {"password_hash": "x", "ip": "10.0.0.1"}}
    )

    fetched = (await client.get(f"/v1/listeners/{listener['id']}")).json()

    assert set(fetched) == LISTENER_FIELDS


async def test_malformed_listener_id_is_422_naming_the_parameter(
    client: httpx.AsyncClient,
) -> None:
    for method, path, body in [
        ("GET", "", None),
        ("PATCH", "", {"name": "X"}),
        ("DELETE", "", None),
        ("POST", "/actions", {"action": "unsubscription"}),
        ("GET", "/plays", None),
    ]:
        response = await client.request(method, f"/v1/listeners/not-an-id{path}", json=body)
        assert response.status_code == 422, (method, path)
        assert response.json()["errors"][0]["field"] == "listener_id"


async def test_unknown_listener_is_404(client: httpx.AsyncClient) -> None:
    base = f"/v1/listeners/{MISSING_ID}"
    assert (await client.get(base)).status_code == 404
    assert (await client.patch(base, json={"name": "X"})).status_code == 404
    assert (await client.delete(base)).status_code == 404
    action = {"action": "unsubscription"}
    assert (await client.post(f"{base}/actions", json=action)).status_code == 404
    assert (await client.get(f"{base}/plays")).status_code == 404


async def test_patch_changes_only_given_fields_and_bumps_the_version(
    make_listener: Factory, listener_client: ListenerClient
) -> None:
    listener = await make_listener(consent_to_share_data=True, password=OWN_PASSWORD)

    response = await listener_client(listener).patch(
        f"/v1/listeners/{listener['id']}",
        json={
            "email": "New@Example.com",
            "consent_to_share_data": False,
            "country": "it",
            "current_password": OWN_PASSWORD,
        },
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["email"] == "new@example.com"
    assert updated["consent_to_share_data"] is False
    assert updated["country"] == "IT"
    assert updated["name"] == listener["name"]
    assert updated["actions"] == listener["actions"]
    assert updated["version"] == 2
    assert updated["updated_at"] > listener["updated_at"]
    assert response.headers["etag"] == '"2"'


async def test_patch_to_a_taken_email_is_409_and_changes_nothing(
    client: httpx.AsyncClient, make_listener: Factory, listener_client: ListenerClient
) -> None:
    await make_listener(email="taken@example.com")
    listener = await make_listener(password=OWN_PASSWORD)
    path = f"/v1/listeners/{listener['id']}"

    response = await listener_client(listener).patch(
        path,
        json={"email": "Taken@Example.com", "name": "Other", "current_password": OWN_PASSWORD},
    )

    assert response.status_code == 409
    assert (await client.get(path)).json() == listener


async def test_patch_with_a_stale_etag_is_412_and_writes_nothing(
    client: httpx.AsyncClient, make_listener: Factory
) -> None:
    listener = await make_listener()
    path = f"/v1/listeners/{listener['id']}"
    assert (await client.patch(path, json={"name": "First"})).status_code == 200

    stale = await client.patch(path, json={"name": "Second"}, headers={"If-Match": '"1"'})

    assert stale.status_code == 412
    assert (await client.get(path)).json()["name"] == "First"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({}, {}),
        ({"name": None}, {}),
        ({"actions": []}, {}),
        ({"email": "nope"}, {}),
        ({"name": "X"}, {"If-Match": "three"}),
    ],
)
async def test_bad_patches_are_422(
    client: httpx.AsyncClient,
    make_listener: Factory,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    listener = await make_listener()
    path = f"/v1/listeners/{listener['id']}"
    response = await client.patch(path, json=body, headers=headers)
    assert response.status_code == 422
    assert (await client.get(path)).json()["version"] == 1


async def test_add_action_appends_and_bumps_the_version(
    client: httpx.AsyncClient, make_listener: Factory
) -> None:
    listener = await make_listener(actions=[])
    before = datetime.now(UTC) - timedelta(seconds=1)

    response = await client.post(
        f"/v1/listeners/{listener['id']}/actions",
        json={"action": "premium subscription", "amount": "9.99"},
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 200, response.text
    updated = response.json()
    assert response.headers["etag"] == '"2"'
    assert updated["version"] == 2
    [action] = updated["actions"]
    assert action["action"] == "premium subscription"
    assert action["amount"] == "9.99"
    assert datetime.fromisoformat(action["date"]) >= before
    assert (await client.get(f"/v1/listeners/{listener['id']}")).json() == updated


async def test_concurrent_actions_all_land(
    client: httpx.AsyncClient, make_listener: Factory
) -> None:
    listener = await make_listener(actions=[])
    path = f"/v1/listeners/{listener['id']}/actions"
    dates = [f"2024-0{month}-01T00:00:00Z" for month in range(1, 6)]

    responses = await asyncio.gather(
        *(client.post(path, json={"action": "unsubscription", "date": d}) for d in dates)
    )

    assert all(r.status_code == 200 for r in responses)
    stored = (await client.get(f"/v1/listeners/{listener['id']}")).json()
    assert stored["version"] == 6
    assert sorted(a["date"] for a in stored["actions"]) == dates


async def test_add_action_with_a_stale_etag_is_412_and_appends_nothing(
    client: httpx.AsyncClient, make_listener: Factory
) -> None:
    listener = await make_listener()
    path = f"/v1/listeners/{listener['id']}"
    assert (await client.patch(path, json={"name": "Moved On"})).status_code == 200

    stale = await client.post(
        f"{path}/actions", json={"action": "unsubscription"}, headers={"If-Match": '"1"'}
    )

    assert stale.status_code == 412
    assert (await client.get(path)).json()["actions"] == listener["actions"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "action"),
        ({"action": "refund"}, "action"),
        ({"action": "unsubscription", "amount": -0.01}, "amount"),
        ({"action": "unsubscription", "date": "2999-01-01T00:00:00Z"}, "date"),
        ({"action": "unsubscription", "owner": "me"}, "owner"),
        ({"action": "unsubscription", "$push": {}}, "$push"),
    ],
)
async def test_bad_actions_are_422_and_append_nothing(
    client: httpx.AsyncClient, make_listener: Factory, body: dict[str, Any], field: str
) -> None:
    listener = await make_listener()
    path = f"/v1/listeners/{listener['id']}"

    response = await client.post(f"{path}/actions", json=body)

    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert (await client.get(path)).json()["version"] == 1


async def test_delete_erases_the_listener_and_their_plays(
    client: httpx.AsyncClient,
    make_listener: Factory,
    make_play: Factory,
    make_song: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    song = await make_song()
    gone, kept = await make_listener(), await make_listener()
    for _ in range(3):
        await make_play(gone["id"], song["id"])
    await make_play(kept["id"], song["id"])
    path = f"/v1/listeners/{gone['id']}"

    assert (await client.delete(path, headers={"If-Match": '"2"'})).status_code == 412
    response = await client.delete(path, headers={"If-Match": '"1"'})

    assert response.status_code == 204
    assert (await client.get(path)).status_code == 404
    assert await mongo_db.listeners.count_documents(REGISTERED) == 1
    assert await mongo_db.play_events.count_documents({}) == 1
    assert await mongo_db.play_events.count_documents({"listener_id": ObjectId(kept["id"])}) == 1
