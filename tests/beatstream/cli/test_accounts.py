"""`beatstream accounts grant`, as an operator runs it, then seen from the API."""

from __future__ import annotations

import random

import httpx
import pytest

from beatstream.settings import Settings
from seed.builders import listener_payload
from tests.beatstream.cli.test_serve import run_cli
from tests.fixtures.stores import ResolvedStore


def _env(settings: Settings, resolved_stores: dict[str, ResolvedStore]) -> dict[str, str]:
    return {
        "MONGODB_URL": resolved_stores["mongodb"].url,
        "MONGODB_DB": settings.mongodb.db,
        "ELASTICSEARCH_URL": resolved_stores["elasticsearch"].url,
        "REDIS_URL": resolved_stores["redis"].url,
    }


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The API reads the account on every request (no per-process reuse), so what the
    CLI changes applies at the next request: the bound is 0 s here, decided without a
    clock (the cache's own bound is unit-tested in tests/beatstream/auth)."""
    security = settings.security.model_copy(update={"account_cache_ttl_s": 0})
    return settings.model_copy(update={"security": security})


async def test_a_granted_role_applies_to_tokens_already_issued(
    anon_client: httpx.AsyncClient,
    rng: random.Random,
    settings: Settings,
    resolved_stores: dict[str, ResolvedStore],
) -> None:
    payload = listener_payload(rng, email="Editor@Example.com")
    assert (await anon_client.post("/v1/listeners", json=payload)).status_code == 201
    form = {"username": "editor@example.com", "password": payload["password"]}
    token = (await anon_client.post("/v1/auth/token", data=form)).json()["access_token"]
    artist = {"name": "Granted", "country": "GB", "genres": ["pop"]}
    headers = {"Authorization": f"Bearer {token}"}
    before = await anon_client.post("/v1/artists", json=artist, headers=headers)

    result = run_cli(
        "accounts",
        "grant",
        "--email",
        "EDITOR@example.com",
        "--role",
        "editor",
        env=_env(settings, resolved_stores),
    )

    assert result.returncode == 0, result.stderr
    assert "editor@example.com is now editor" in result.stderr
    after = await anon_client.post("/v1/artists", json=artist, headers=headers)
    assert before.status_code == 403
    assert after.status_code == 201, after.text


async def test_a_demoted_admin_loses_admin_routes_with_the_token_in_hand(
    anon_client: httpx.AsyncClient,
    rng: random.Random,
    settings: Settings,
    resolved_stores: dict[str, ResolvedStore],
) -> None:
    payload = listener_payload(rng)
    assert (await anon_client.post("/v1/listeners", json=payload)).status_code == 201
    env = _env(settings, resolved_stores)
    grant = ("accounts", "grant", "--email", payload["email"], "--role")
    assert run_cli(*grant, "admin", env=env).returncode == 0
    form = {"username": payload["email"], "password": payload["password"]}
    token = (await anon_client.post("/v1/auth/token", data=form)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    as_admin = await anon_client.get("/v1/admin/keys", headers=headers)

    assert run_cli(*grant, "listener", env=env).returncode == 0
    demoted = await anon_client.get("/v1/admin/keys", headers=headers)

    assert as_admin.status_code == 200, as_admin.text
    assert demoted.status_code == 403, demoted.text
    assert demoted.json()["required_roles"] == ["admin"]
    assert (await anon_client.get("/v1/auth/me", headers=headers)).json()["role"] == "listener"


async def test_granting_to_an_unknown_email_fails_and_says_so(
    mongo_db: object, settings: Settings, resolved_stores: dict[str, ResolvedStore]
) -> None:
    result = run_cli(
        "accounts",
        "grant",
        "--email",
        "nobody@example.com",
        "--role",
        "admin",
        env=_env(settings, resolved_stores),
    )

    assert result.returncode == 1
    assert "no account with this email" in result.stderr


def test_an_unknown_role_is_refused_before_anything_runs() -> None:
    result = run_cli("accounts", "grant", "--email", "a@example.com", "--role", "owner", env={})

    assert result.returncode == 2
    assert "owner" in result.stderr
