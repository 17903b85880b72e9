"""`beatstream accounts grant`, as an operator runs it, then seen from the API."""

from __future__ import annotations

import random

import httpx

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


async def test_a_granted_role_comes_with_the_next_login(
    anon_client: httpx.AsyncClient,
    rng: random.Random,
    settings: Settings,
    resolved_stores: dict[str, ResolvedStore],
) -> None:
    payload = listener_payload(rng, email="Editor@Example.com")
    assert (await anon_client.post("/v1/listeners", json=payload)).status_code == 201
    form = {"username": "editor@example.com", "password": payload["password"]}
    before = (await anon_client.post("/v1/auth/token", data=form)).json()["access_token"]

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
    after = (await anon_client.post("/v1/auth/token", data=form)).json()["access_token"]
    artist = {"name": "Granted", "country": "GB", "genres": ["pop"]}
    old = await anon_client.post(
        "/v1/artists", json=artist, headers={"Authorization": f"Bearer {before}"}
    )
    new = await anon_client.post(
        "/v1/artists", json=artist, headers={"Authorization": f"Bearer {after}"}
    )
    assert old.status_code == 403
    assert new.status_code == 201, new.text


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
