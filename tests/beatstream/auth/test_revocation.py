"""Revoking an account's tokens: logout everywhere, a password change, an erasure, and
a change made by another process, over HTTP against the real stores.

These run with the default per-process cache (`SECURITY_ACCOUNT_CACHE_TTL_S`, 5 s):
a change made through this process must apply at the very next request anyway.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from beanie import PydanticObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.app import create_app
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from seed.builders import listener_payload
from tests.fixtures.app import running
from tests.fixtures.tokens import TEST_SECURITY

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a longer and newer passphrase"
REVOKED = (
    "the access token has been revoked: the account signed out everywhere or changed its password"
)


async def _register(http: httpx.AsyncClient, rng: random.Random) -> dict[str, Any]:
    response = await http.post("/v1/listeners", json=listener_payload(rng, password=PASSWORD))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await http.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _assert_revoked(response: httpx.Response, detail: str = REVOKED) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == detail


def test_the_tests_run_with_the_default_cache() -> None:
    assert TEST_SECURITY.account_cache_ttl_s == 5.0


async def test_logout_everywhere_revokes_every_token_of_the_account_only(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    ada, bob = await _register(anon_client, rng), await _register(anon_client, rng)
    phone, laptop = await _login(anon_client, ada["email"]), await _login(anon_client, ada["email"])
    bobs = await _login(anon_client, bob["email"])
    # Both of Ada's tokens are in use (and so in the cache) before she signs out.
    for headers in (phone, laptop):
        assert (await anon_client.get("/v1/auth/me", headers=headers)).status_code == 200

    signed_out = await anon_client.post("/v1/auth/logout-all", headers=phone)

    assert signed_out.status_code == 204, signed_out.text
    for headers in (phone, laptop):
        _assert_revoked(await anon_client.get("/v1/auth/me", headers=headers))
        _assert_revoked(await anon_client.get(f"/v1/listeners/{ada['id']}", headers=headers))
    assert (await anon_client.get("/v1/auth/me", headers=bobs)).status_code == 200
    again = await _login(anon_client, ada["email"])
    assert (await anon_client.get("/v1/auth/me", headers=again)).status_code == 200


async def test_a_password_change_revokes_earlier_tokens_and_hands_out_a_new_one(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    ada = await _register(anon_client, rng)
    thief, mine = await _login(anon_client, ada["email"]), await _login(anon_client, ada["email"])
    assert (await anon_client.get("/v1/auth/me", headers=thief)).status_code == 200

    changed = await anon_client.post(
        "/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=mine,
    )

    assert changed.status_code == 200, changed.text
    assert changed.headers["Cache-Control"] == "no-store"
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    _assert_revoked(await anon_client.get("/v1/auth/me", headers=thief))
    _assert_revoked(await anon_client.get("/v1/auth/me", headers=mine))
    assert (await anon_client.get("/v1/auth/me", headers=fresh)).status_code == 200
    old_login = await anon_client.post(
        "/v1/auth/token", data={"username": ada["email"], "password": PASSWORD}
    )
    assert old_login.status_code == 401
    await _login(anon_client, ada["email"], NEW_PASSWORD)


async def test_a_password_change_needs_the_current_password(
    anon_client: httpx.AsyncClient, rng: random.Random, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    ada = await _register(anon_client, rng)
    headers = await _login(anon_client, ada["email"])
    before = await mongo_db.listeners.find_one({"_id": PydanticObjectId(ada["id"])})

    wrong = await anon_client.post(
        "/v1/auth/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    missing = await anon_client.post(
        "/v1/auth/password", json={"new_password": NEW_PASSWORD}, headers=headers
    )
    short = await anon_client.post(
        "/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=headers,
    )

    assert wrong.status_code == 403, wrong.text
    assert [e["field"] for e in wrong.json()["errors"]] == ["current_password"]
    assert missing.status_code == 422, missing.text
    assert [e["field"] for e in missing.json()["errors"]] == ["current_password"]
    assert short.status_code == 422, short.text
    assert [e["field"] for e in short.json()["errors"]] == ["new_password"]
    assert await mongo_db.listeners.find_one({"_id": PydanticObjectId(ada["id"])}) == before
    assert (await anon_client.get("/v1/auth/me", headers=headers)).status_code == 200


async def test_an_erased_accounts_token_is_refused_everywhere(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    ada = await _register(anon_client, rng)
    headers = await _login(anon_client, ada["email"])
    plays = f"/v1/listeners/{ada['id']}/plays"
    assert (await anon_client.get(plays, headers=headers)).status_code == 200

    erased = await anon_client.delete(f"/v1/listeners/{ada['id']}", headers=headers)

    assert erased.status_code == 204, erased.text
    gone = "the account of this token no longer exists"
    _assert_revoked(await anon_client.get(plays, headers=headers), gone)
    _assert_revoked(
        await anon_client.post(f"/v1/listeners/{ada['id']}/playlists", json={}, headers=headers),
        gone,
    )


async def test_a_change_made_by_another_process_applies_within_the_bound(
    settings: Settings, rng: random.Random, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    """Another process (an API sibling, the CLI) moves the generation in MongoDB; with
    the bound at 0 this process sees it at the next request. (The bound itself is
    tested with a clock in test_sessions.py.)"""
    no_reuse = settings.model_copy(
        update={"security": TEST_SECURITY.model_copy(update={"account_cache_ttl_s": 0})}
    )
    async with running(create_app(no_reuse), role=None) as http:
        ada = await _register(http, rng)
        headers = await _login(http, ada["email"])
        assert (await http.get("/v1/auth/me", headers=headers)).status_code == 200

        await mongo_db.listeners.update_one(
            {"_id": PydanticObjectId(ada["id"])}, {"$inc": {"token_generation": 1}}
        )

        _assert_revoked(await http.get("/v1/auth/me", headers=headers))


async def test_a_token_from_before_generations_counts_as_generation_zero(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    """Deploying generations signs nobody out; one logout-all later, such a token dies."""
    ada = await _register(anon_client, rng)
    now = datetime.now(UTC)
    claims = {
        "sub": ada["id"],
        "role": "listener",
        "jti": "from-before",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    assert TEST_SECURITY.jwt_secret is not None
    secret = TEST_SECURITY.jwt_secret.get_secret_value()
    old = {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}

    assert (await anon_client.get("/v1/auth/me", headers=old)).status_code == 200
    assert (await anon_client.post("/v1/auth/logout-all", headers=old)).status_code == 204
    _assert_revoked(await anon_client.get("/v1/auth/me", headers=old))
