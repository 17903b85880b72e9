"""`/v1/admin/keys`: admins mint, list and revoke partner keys over HTTP."""

from __future__ import annotations

import hashlib

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.auth.principals import Role
from beatstream.stores.clients import MongoDocument
from tests.fixtures.auth import AsRole


async def test_an_admin_mints_a_key_shown_once_that_then_works(
    client: httpx.AsyncClient, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    created = await client.post(
        "/v1/admin/keys",
        json={"name": "acme", "scopes": ["views:read:play_stats"], "rate_limit": 30},
    )

    assert created.status_code == 201, created.text
    assert created.headers["Cache-Control"] == "no-store"
    body = created.json()
    plaintext = body.pop("key")
    key_id = plaintext[4:20]
    assert body["key_id"] == key_id
    assert created.headers["Location"] == f"/v1/admin/keys/{key_id}"
    assert {k: body[k] for k in ("name", "scopes", "rate_limit", "revoked_at")} == {
        "name": "acme",
        "scopes": ["views:read:play_stats"],
        "rate_limit": 30,
        "revoked_at": None,
    }
    stored = await mongo_db.api_keys.find_one({"key_id": key_id})
    assert stored is not None
    assert stored["secret_sha256"] == hashlib.sha256(plaintext[21:].encode()).hexdigest()
    reached = await client.get("/v1/probe/play_stats", headers={"X-API-Key": plaintext})
    assert reached.status_code == 200, reached.text
    assert reached.json()["name"] == "acme"


async def test_the_list_never_shows_a_secret_or_its_digest(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1/admin/keys", json={"name": "acme", "scopes": ["views:read"]})
    plaintext = created.json()["key"]

    listed = await client.get("/v1/admin/keys")

    assert listed.status_code == 200
    assert [key["name"] for key in listed.json()] == ["acme"]
    assert set(listed.json()[0]) == {
        "key_id",
        "name",
        "scopes",
        "rate_limit",
        "created_at",
        "revoked_at",
    }
    assert plaintext[21:] not in listed.text
    assert hashlib.sha256(plaintext[21:].encode()).hexdigest() not in listed.text


async def test_a_revoked_key_is_refused_and_revoking_twice_is_404(
    client: httpx.AsyncClient,
) -> None:
    plaintext = (
        await client.post("/v1/admin/keys", json={"name": "acme", "scopes": ["views:read"]})
    ).json()["key"]
    key_id = plaintext[4:20]

    revoked = await client.delete(f"/v1/admin/keys/{key_id}")
    again = await client.delete(f"/v1/admin/keys/{key_id}")
    refused = await client.get("/v1/probe/play_stats", headers={"X-API-Key": plaintext})

    assert revoked.status_code == 204
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"
    assert refused.status_code == 401
    listed = (await client.get("/v1/admin/keys")).json()
    assert listed[0]["revoked_at"] is not None


async def test_bad_input_names_the_field_and_mints_nothing(
    client: httpx.AsyncClient, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    cases = {
        "scopes": {"name": "acme", "scopes": ["views:read", "views:all"]},
        "name": {"name": "", "scopes": ["views:read"]},
        "rate_limit": {"name": "acme", "scopes": ["views:read"], "rate_limit": 0},
        "key_hash": {"name": "acme", "scopes": ["views:read"], "key_hash": "x"},
        "scopes.$ne": {"name": "acme", "scopes": {"$ne": 1}},
    }
    for field, payload in cases.items():
        response = await client.post("/v1/admin/keys", json=payload)
        assert response.status_code == 422, (field, response.text)
        assert field in {error["field"] for error in response.json()["errors"]}, response.text
    malformed = await client.delete("/v1/admin/keys/not-a-key-id")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "key_id"
    assert await mongo_db.api_keys.count_documents({}) == 0


async def test_only_admins_manage_keys(
    client: httpx.AsyncClient, as_role: AsRole, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    payload = {"name": "acme", "scopes": ["views:read"]}
    for role in (Role.listener, Role.editor):
        caller = as_role(role)
        assert (await caller.post("/v1/admin/keys", json=payload)).status_code == 403
        assert (await caller.get("/v1/admin/keys")).status_code == 403
        assert (await caller.delete("/v1/admin/keys/0123456789abcdef")).status_code == 403
    assert await mongo_db.api_keys.count_documents({}) == 0
