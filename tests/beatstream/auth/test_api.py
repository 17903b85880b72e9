"""Register, log in, who am I, log out: the account flow over HTTP, and every 401."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from beanie import PydanticObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.app import create_app
from beatstream.auth.principals import Role
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from seed.builders import listener_payload
from tests.fixtures.app import running
from tests.fixtures.tokens import TEST_SECURITY, TEST_TOKENS, bearer

PASSWORD = "correct horse battery"


async def _register(
    http: httpx.AsyncClient, rng: random.Random, **overrides: Any
) -> dict[str, Any]:
    response = await http.post(
        "/v1/listeners", json=listener_payload(rng, password=PASSWORD, **overrides)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/v1/auth/token", data={"username": email, "password": password})


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_unauthorized(response: httpx.Response, detail: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/unauthorized")
    if detail is not None:
        assert body["detail"] == detail


# Registration


async def test_registration_stores_a_slow_hash_and_never_returns_it(
    anon_client: httpx.AsyncClient, rng: random.Random, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    listener = await _register(anon_client, rng)

    assert "password" not in listener
    assert "password_hash" not in listener
    assert "role" not in listener
    stored = await mongo_db.listeners.find_one({"_id": PydanticObjectId(listener["id"])})
    assert stored is not None
    assert stored["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in str(stored)
    assert stored["role"] == "listener"
    assert "password" not in stored


async def test_a_short_password_is_refused_and_nothing_is_written(
    anon_client: httpx.AsyncClient, rng: random.Random, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    response = await anon_client.post(
        "/v1/listeners", json=listener_payload(rng, password="seven77")
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["password"]
    assert "seven77" not in response.text
    assert await mongo_db.listeners.count_documents({}) == 0


async def test_a_password_is_required(anon_client: httpx.AsyncClient, rng: random.Random) -> None:
    body = listener_payload(rng)
    del body["password"]
    response = await anon_client.post("/v1/listeners", json=body)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["password"]


async def test_a_client_cannot_give_itself_a_role(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    response = await anon_client.post("/v1/listeners", json=listener_payload(rng, role="admin"))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["role"]

    listener = await _register(anon_client, rng)
    patched = await client.patch(f"/v1/listeners/{listener['id']}", json={"role": "admin"})
    assert patched.status_code == 422
    assert [e["field"] for e in patched.json()["errors"]] == ["role"]


# Login


async def test_login_returns_a_bearer_token_for_the_account(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    listener = await _register(anon_client, rng, email="Ada@Example.com")

    response = await _login(anon_client, "  ADA@example.com ")

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == TEST_SECURITY.access_token_ttl_s
    principal = TEST_TOKENS.verify(body["access_token"])
    assert str(principal.subject) == listener["id"]
    assert principal.role is Role.listener

    me = await anon_client.get("/v1/auth/me", headers=_auth(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json() == {
        "id": listener["id"],
        "name": listener["name"],
        "email": "ada@example.com",
        "role": "listener",
        "token_expires_at": principal.expires_at.isoformat().replace("+00:00", "Z"),
    }


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    listener = await _register(anon_client, rng)

    wrong_password = await _login(anon_client, listener["email"], "not the password")
    unknown_email = await _login(anon_client, "nobody@example.com")

    for response in (wrong_password, unknown_email):
        _assert_unauthorized(response, "wrong email or password")
    strip = ("request_id",)
    assert {k: v for k, v in wrong_password.json().items() if k not in strip} == {
        k: v for k, v in unknown_email.json().items() if k not in strip
    }


async def test_an_unknown_email_costs_the_same_hashing_as_a_wrong_password(
    anon_client: httpx.AsyncClient, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A login that skipped the hash for an unknown email would answer several times
    faster and tell which emails are registered. Counted through the real app rather
    than timed, so it cannot flake on a busy machine."""
    listener = await _register(anon_client, rng)
    verified: list[str] = []
    original = PasswordHasher.verify

    def counting_verify(self: PasswordHasher, stored: str | bytes, password: str | bytes) -> bool:
        verified.append(str(stored))
        return original(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)

    _assert_unauthorized(await _login(anon_client, listener["email"], "wrong password"))
    _assert_unauthorized(await _login(anon_client, "nobody@example.com", "wrong password"))

    assert len(verified) == 2
    assert all(stored.startswith("$argon2id$") for stored in verified)
    assert verified[0] != verified[1]


async def test_a_seeded_listener_without_a_password_cannot_log_in(
    anon_client: httpx.AsyncClient, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    await mongo_db.listeners.insert_one(
        {"email": "seeded@example.com", "name": "Seed", "password_hash": None}
    )
    for password in ("", "anything-at-all", "None"):
        response = await _login(anon_client, "seeded@example.com", password)
        assert response.status_code in {401, 422}
        if response.status_code == 401:
            _assert_unauthorized(response, "wrong email or password")


async def test_the_login_form_names_a_missing_field(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.post("/v1/auth/token", data={"username": "a@example.com"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["password"]


async def test_repeated_failures_are_throttled_per_email_and_address(
    settings: Settings, rng: random.Random, mongo_db: object, redis_prefix: str
) -> None:
    strict = settings.model_copy(
        update={"security": settings.security.model_copy(update={"login_max_failures": 3})}
    )
    async with running(create_app(strict), role=None) as http:
        listener = await _register(http, rng)
        other = await _register(http, rng)
        for _ in range(3):
            _assert_unauthorized(await _login(http, listener["email"], "wrong password"))

        throttled = await _login(http, listener["email"])  # even the right password now
        assert throttled.status_code == 429
        assert throttled.json()["type"].endswith("/too-many-requests")
        assert 1 <= int(throttled.headers["Retry-After"]) <= strict.security.login_window_s

        assert (await _login(http, other["email"])).status_code == 200


async def test_a_successful_login_clears_earlier_failures(
    settings: Settings, rng: random.Random, mongo_db: object, redis_prefix: str
) -> None:
    strict = settings.model_copy(
        update={"security": settings.security.model_copy(update={"login_max_failures": 2})}
    )
    async with running(create_app(strict), role=None) as http:
        listener = await _register(http, rng)
        _assert_unauthorized(await _login(http, listener["email"], "wrong password"))
        assert (await _login(http, listener["email"])).status_code == 200
        _assert_unauthorized(await _login(http, listener["email"], "wrong password"))
        assert (await _login(http, listener["email"])).status_code == 200


# Tokens on requests


async def test_me_needs_a_token(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/v1/auth/me")

    _assert_unauthorized(response)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "/v1/auth/token" in response.json()["detail"]


async def test_an_expired_token_is_refused(anon_client: httpx.AsyncClient) -> None:
    old = TEST_TOKENS.issue(
        PydanticObjectId(), Role.admin, now=datetime.now(UTC) - timedelta(hours=1)
    )
    response = await anon_client.post("/v1/auth/logout", headers=_auth(old.token))

    _assert_unauthorized(response, "the access token has expired")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


async def test_a_tampered_token_is_refused(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    listener = await _register(anon_client, rng)
    token = (await _login(anon_client, listener["email"])).json()["access_token"]
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")

    response = await anon_client.get("/v1/auth/me", headers=_auth(f"{header}.{payload}.{flipped}"))

    _assert_unauthorized(response, "the access token is not valid")


async def test_an_unsigned_admin_token_is_refused(anon_client: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    claims = {
        "sub": str(PydanticObjectId()),
        "role": "admin",
        "jti": "forged",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    forged = jwt.encode(claims, None, algorithm="none")

    response = await anon_client.post("/v1/artists", json={}, headers=_auth(forged))

    _assert_unauthorized(response, "the access token is not valid")


async def test_a_non_bearer_authorization_header_is_refused(
    anon_client: httpx.AsyncClient,
) -> None:
    for header in ("Basic YWRhOnB3", "Bearer", "token abc"):
        response = await anon_client.get("/v1/auth/me", headers={"Authorization": header})
        _assert_unauthorized(response)


async def test_logout_revokes_the_token_and_only_that_token(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    listener = await _register(anon_client, rng)
    phone = (await _login(anon_client, listener["email"])).json()["access_token"]
    laptop = (await _login(anon_client, listener["email"])).json()["access_token"]

    assert (await anon_client.post("/v1/auth/logout", headers=_auth(phone))).status_code == 204

    _assert_unauthorized(
        await anon_client.get("/v1/auth/me", headers=_auth(phone)),
        "the access token has been revoked",
    )
    _assert_unauthorized(await anon_client.post("/v1/auth/logout", headers=_auth(phone)))
    assert (await anon_client.get("/v1/auth/me", headers=_auth(laptop))).status_code == 200


async def test_the_revocation_expires_with_the_token(
    anon_client: httpx.AsyncClient, rng: random.Random, redis_client: Any, redis_prefix: str
) -> None:
    listener = await _register(anon_client, rng)
    token = (await _login(anon_client, listener["email"])).json()["access_token"]
    token_id = TEST_TOKENS.verify(token).token_id

    await anon_client.post("/v1/auth/logout", headers=_auth(token))

    ttl = await redis_client.ttl(f"{redis_prefix}auth:revoked:{token_id}")
    assert 0 < ttl <= TEST_SECURITY.access_token_ttl_s + 1


async def test_a_token_of_an_erased_account_no_longer_shows_an_account(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    listener = await _register(anon_client, rng)
    token = (await _login(anon_client, listener["email"])).json()["access_token"]
    erased = await anon_client.delete(f"/v1/listeners/{listener['id']}", headers=_auth(token))
    assert erased.status_code == 204

    _assert_unauthorized(
        await anon_client.get("/v1/auth/me", headers=_auth(token)),
        "the account of this token no longer exists",
    )


async def test_me_reports_the_accounts_current_role_not_the_tokens(
    anon_client: httpx.AsyncClient, rng: random.Random
) -> None:
    listener = await _register(anon_client, rng)
    claims_editor = bearer(Role.editor, listener["id"])

    me = await anon_client.get("/v1/auth/me", headers=claims_editor)

    assert me.status_code == 200, me.text
    assert me.json()["role"] == "listener"
    # A validly signed token whose subject never was an account.
    _assert_unauthorized(
        await anon_client.get("/v1/auth/me", headers=bearer(Role.editor)),
        "the account of this token no longer exists",
    )


async def test_health_and_docs_stay_open(anon_client: httpx.AsyncClient) -> None:
    assert (await anon_client.get("/health/live")).status_code == 200
    assert (await anon_client.get("/docs")).status_code == 200
    spec = (await anon_client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["bearer"]["flows"]["password"]["tokenUrl"] == (
        "/v1/auth/token"
    )
    assert spec["paths"]["/v1/artists"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/v1/artists"]["get"]


async def test_an_admin_token_from_the_fixtures_is_what_client_sends(
    client: httpx.AsyncClient,
) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    assert TEST_TOKENS.verify(token).role is Role.admin
    assert bearer(Role.admin)["Authorization"].startswith("Bearer ")
