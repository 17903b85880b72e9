"""A stolen token is not a stolen account: changing the email (what the account logs in
with) needs the signed-in account's password again."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.app import create_app
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from seed.builders import listener_payload
from tests.fixtures.app import running

PASSWORD = "correct horse battery"
ADMIN_PASSWORD = "the admins own passphrase"


async def _register(
    http: httpx.AsyncClient, rng: random.Random, password: str = PASSWORD
) -> dict[str, Any]:
    response = await http.post("/v1/listeners", json=listener_payload(rng, password=password))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/v1/auth/token", data={"username": email, "password": password})


async def _signed_in(
    http: httpx.AsyncClient, rng: random.Random, password: str = PASSWORD
) -> tuple[dict[str, Any], str]:
    listener = await _register(http, rng, password)
    response = await _login(http, listener["email"], password)
    assert response.status_code == 200, response.text
    return listener, f"Bearer {response.json()['access_token']}"


async def _stored(db: AsyncDatabase[MongoDocument], listener: dict[str, Any]) -> MongoDocument:
    found = await db.listeners.find_one({"_id": PydanticObjectId(listener["id"])})
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("extra", "status"),
    [({}, 422), ({"current_password": "a wrong guess"}, 403)],
    ids=["missing", "wrong"],
)
async def test_an_email_change_without_the_right_password_is_refused_naming_it(
    anon_client: httpx.AsyncClient,
    rng: random.Random,
    mongo_db: AsyncDatabase[MongoDocument],
    extra: dict[str, str],
    status: int,
) -> None:
    listener, token = await _signed_in(anon_client, rng)
    before = await _stored(mongo_db, listener)

    response = await anon_client.patch(
        f"/v1/listeners/{listener['id']}",
        json={"email": "thief@example.com", "name": "Thief", **extra},
        headers={"Authorization": token},
    )

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["current_password"]
    assert await _stored(mongo_db, listener) == before
    assert (await _login(anon_client, "thief@example.com")).status_code == 401


async def test_with_the_password_the_email_changes_and_logs_in(
    anon_client: httpx.AsyncClient, rng: random.Random, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    listener, token = await _signed_in(anon_client, rng)

    response = await anon_client.patch(
        f"/v1/listeners/{listener['id']}",
        json={"email": "Ada.New@Example.com", "current_password": PASSWORD},
        headers={"Authorization": token},
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] == "ada.new@example.com"
    assert "current_password" not in await _stored(mongo_db, listener)
    assert (await _login(anon_client, "ada.new@example.com")).status_code == 200
    assert (await _login(anon_client, listener["email"])).status_code == 401


@pytest.mark.parametrize("same_email", [True, False], ids=["same-email", "no-email"])
async def test_other_changes_need_no_password(
    anon_client: httpx.AsyncClient, rng: random.Random, same_email: bool
) -> None:
    listener, token = await _signed_in(anon_client, rng)
    body: dict[str, Any] = {"name": "Renamed"}
    if same_email:
        body["email"] = listener["email"].upper()

    response = await anon_client.patch(
        f"/v1/listeners/{listener['id']}", json=body, headers={"Authorization": token}
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed"


async def test_a_password_alone_is_not_a_change(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    listener, token = await _signed_in(anon_client, rng)

    response = await anon_client.patch(
        f"/v1/listeners/{listener['id']}",
        json={"current_password": PASSWORD},
        headers={"Authorization": token},
    )

    assert response.status_code == 422, response.text


async def test_an_admin_changing_someones_email_gives_the_admins_own_password(
    anon_client: httpx.AsyncClient, rng: random.Random, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    listener, _ = await _signed_in(anon_client, rng)
    admin, admin_token = await _signed_in(anon_client, rng, ADMIN_PASSWORD)
    await mongo_db.listeners.update_one(
        {"_id": PydanticObjectId(admin["id"])}, {"$set": {"role": "admin"}}
    )
    path = f"/v1/listeners/{listener['id']}"
    headers = {"Authorization": admin_token}

    # The listener's own password proves nothing about the admin at the keyboard.
    theirs = await anon_client.patch(
        path, json={"email": "x@example.com", "current_password": PASSWORD}, headers=headers
    )
    own = await anon_client.patch(
        path,
        json={"email": "support@example.com", "current_password": ADMIN_PASSWORD},
        headers=headers,
    )

    assert theirs.status_code == 403, theirs.text
    assert own.status_code == 200, own.text
    assert own.json()["email"] == "support@example.com"


async def test_wrong_passwords_count_with_failed_logins(
    settings: Settings, rng: random.Random
) -> None:
    """Otherwise a stolen token would be an unthrottled way to guess the password."""
    strict = settings.model_copy(
        update={"security": settings.security.model_copy(update={"login_max_failures": 2})}
    )
    async with running(create_app(strict), role=None) as http:
        listener, token = await _signed_in(http, rng)
        path = f"/v1/listeners/{listener['id']}"
        guesses = [
            await http.patch(
                path,
                json={"email": "thief@example.com", "current_password": f"guess {n}"},
                headers={"Authorization": token},
            )
            for n in range(2)
        ]
        right_but_throttled = await http.patch(
            path,
            json={"email": "thief@example.com", "current_password": PASSWORD},
            headers={"Authorization": token},
        )
        login = await _login(http, listener["email"])

    assert [g.status_code for g in guesses] == [403, 403]
    assert right_but_throttled.status_code == 429
    assert "Retry-After" in right_but_throttled.headers
    assert login.status_code == 429
