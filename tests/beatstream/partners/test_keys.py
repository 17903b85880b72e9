"""API keys: minted once and stored hashed; 401 alike for every bad key; 403 by scope."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.partners import repository, service
from beatstream.partners.documents import ApiKey
from beatstream.partners.schemas import KNOWN_SCOPES, VIEW_NAMES, normalize_scopes
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from tests.beatstream.partners.conftest import MakeKey, app_with_probes
from tests.fixtures.app import running

pytestmark = pytest.mark.usefixtures("client")


def _comparable(response: httpx.Response) -> dict[str, Any]:
    """The problem body without the per-request id."""
    body: dict[str, Any] = response.json()
    body.pop("request_id", None)
    return body


async def test_create_key_shows_the_secret_once_and_stores_only_its_digest(
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    plaintext, key = await service.create_key("acme", ["views:read:play_stats"], 50)

    prefix, key_id, secret = plaintext[:4], plaintext[4:20], plaintext[21:]
    assert (prefix, plaintext[20]) == ("bsk_", "_")
    assert key.key_id == key_id
    assert len(secret) == 43
    stored = await mongo_db.api_keys.find_one({"key_id": key_id})
    assert stored is not None
    assert stored["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(stored)
    assert stored["scopes"] == ["views:read:play_stats"]
    assert stored["rate_limit"] == 50
    assert stored["revoked_at"] is None


async def test_two_keys_for_one_partner_differ() -> None:
    first, _ = await service.create_key("acme", ["views:read"])
    second, _ = await service.create_key("acme", ["views:read"])

    assert first != second


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        (["views:write"], "unknown scope(s): views:write"),
        (["views:read:nope", "views:read"], "unknown scope(s): views:read:nope"),
        ([" , "], "give at least one scope"),
    ],
)
async def test_create_key_refuses_unknown_or_no_scopes(
    scopes: list[str], message: str, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await service.create_key("acme", scopes)

    assert await mongo_db.api_keys.count_documents({}) == 0


def test_scopes_split_comma_lists_and_deduplicate() -> None:
    assert normalize_scopes(["views:read:play_stats,views:read", "views:read"]) == [
        "views:read",
        "views:read:play_stats",
    ]
    assert {f"views:read:{view}" for view in VIEW_NAMES} < KNOWN_SCOPES


async def test_create_key_refuses_a_blank_name_or_a_zero_limit() -> None:
    with pytest.raises(ValueError, match="name"):
        await service.create_key("  ", ["views:read"])
    with pytest.raises(ValueError, match="at least 1"):
        await service.create_key("acme", ["views:read"], 0)


async def test_list_and_revoke_keys() -> None:
    _, first = await service.create_key("acme", ["views:read"])
    _, second = await service.create_key("globex", ["views:read:play_stats"])

    assert await service.revoke_key(first.key_id) is True
    assert await service.revoke_key(first.key_id) is False  # already revoked
    assert await service.revoke_key("0" * 16) is False

    keys = await service.list_keys()
    assert [k.key_id for k in keys] == [first.key_id, second.key_id]
    assert keys[0].revoked_at is not None
    assert keys[1].revoked_at is None


# Authentication over HTTP


async def test_a_valid_key_reaches_the_route(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = await make_key("acme", ("views:read",))

    response = await client.get("/v1/probe/play_stats", headers={"X-API-Key": key})

    assert response.status_code == 200, response.text
    assert response.json() == {"key_id": key[4:20], "name": "acme", "scopes": ["views:read"]}


async def test_missing_malformed_unknown_and_revoked_keys_get_one_identical_401(
    client: httpx.AsyncClient, make_key: MakeKey, settings: Settings
) -> None:
    valid = await make_key()
    revoked = await make_key()
    assert await service.revoke_key(revoked[4:20])
    unknown = f"bsk_{'0' * 16}_{valid[21:]}"  # a real secret under an id that does not exist
    wrong_secret = valid[:21] + ("A" if valid[21] != "A" else "B") + valid[22:]
    presented: list[dict[str, str]] = [
        {},
        {"X-API-Key": ""},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": valid + "x"},
        {"X-API-Key": "x" * 10_000},
        {"X-API-Key": unknown},
        {"X-API-Key": wrong_secret},
        {"X-API-Key": revoked},
    ]

    responses = [await client.get("/v1/probe/play_stats", headers=h) for h in presented]

    assert {r.status_code for r in responses} == {401}
    bodies = [_comparable(r) for r in responses]
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["type"] == "https://beatstream.dev/problems/unauthorized"
    assert bodies[0]["detail"] == "a valid API key is required in the X-API-Key header"
    assert {r.headers["WWW-Authenticate"] for r in responses} == {service.WWW_AUTHENTICATE}
    # Without a valid key a request counts against its IP, like an anonymous one.
    anonymous_policy = f"{settings.ratelimit.anonymous_limit};w={settings.ratelimit.window_s}"
    assert {r.headers["RateLimit-Policy"] for r in responses} == {anonymous_policy}


async def test_a_revoked_key_stops_working_on_its_next_request(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()
    assert (await client.get("/v1/probe/play_stats", headers={"X-API-Key": key})).status_code == 200

    await service.revoke_key(key[4:20])

    assert (await client.get("/v1/probe/play_stats", headers={"X-API-Key": key})).status_code == 401


async def test_every_failure_runs_the_same_constant_time_compare(
    client: httpx.AsyncClient, make_key: MakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a timing measurement: proof that no failure path skips the hash and compare."""
    valid = await make_key()
    revoked = await make_key()
    await service.revoke_key(revoked[4:20])
    calls: list[tuple[str, str]] = []
    real = service.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(service, "compare_digest", spy)
    for value in (None, "garbage", f"bsk_{'f' * 16}_{valid[21:]}", revoked, valid):
        with contextlib.suppress(service.UnauthorizedError):
            await service.authenticate(value)

    assert len(calls) == 5
    assert all(len(a) == len(b) == 64 for a, b in calls)
    dummy = service._DUMMY_DIGEST
    assert [b == dummy for _, b in calls] == [True, True, True, False, False]


# Scopes


async def test_a_key_without_the_view_scope_gets_403_naming_it(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key("acme", ("views:read:listener_actions",))

    response = await client.get("/v1/probe/play_stats", headers={"X-API-Key": key})

    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "https://beatstream.dev/problems/forbidden"
    assert body["scope"] == "views:read:play_stats"
    assert "views:read:play_stats" in body["detail"]


@pytest.mark.parametrize(
    ("scopes", "readable"),
    [
        (("views:read",), set(VIEW_NAMES)),
        (("views:read:play_stats",), {"play_stats"}),
        (
            ("views:read:listener_actions", "views:read:subscriptions_by_month"),
            {"listener_actions", "subscriptions_by_month"},
        ),
    ],
)
async def test_scopes_grant_exactly_their_views(
    client: httpx.AsyncClient, make_key: MakeKey, scopes: tuple[str, ...], readable: set[str]
) -> None:
    key = await make_key("acme", scopes)

    statuses = {
        view: (await client.get(f"/v1/probe/views/{view}", headers={"X-API-Key": key})).status_code
        for view in VIEW_NAMES
    }

    assert statuses == {view: 200 if view in readable else 403 for view in VIEW_NAMES}


async def test_an_unknown_view_is_404_only_after_the_key_check(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key()

    anonymous = await client.get("/v1/probe/views/secrets")
    keyed = await client.get("/v1/probe/views/secrets", headers={"X-API-Key": key})

    assert anonymous.status_code == 401
    assert keyed.status_code == 404
    assert "secrets" in keyed.json()["detail"]


def test_require_view_scope_refuses_an_unknown_view_at_import_time() -> None:
    from beatstream.partners.dependencies import require_view_scope

    with pytest.raises(ValueError, match="unknown view 'nope'"):
        require_view_scope("nope")


# The per-process key cache


async def test_a_cached_key_is_revoked_within_the_cache_ttl(
    settings: Settings, mongo_db: object, redis_prefix: str
) -> None:
    cached = settings.model_copy(
        update={"partners": settings.partners.model_copy(update={"key_cache_ttl_s": 0.5})}
    )
    async with running(app_with_probes(cached)) as http:
        key, _ = await service.create_key("acme", ["views:read"])
        headers = {"X-API-Key": key}
        assert (await http.get("/v1/probe/play_stats", headers=headers)).status_code == 200
        await service.revoke_key(key[4:20])
        statuses = [(await http.get("/v1/probe/play_stats", headers=headers)).status_code]
        await asyncio.sleep(0.6)
        statuses.append((await http.get("/v1/probe/play_stats", headers=headers)).status_code)

    assert statuses == [200, 401]  # still served from the cache, then refused


async def test_the_key_cache_spares_the_lookup_but_still_compares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, record = await service.create_key("acme", ["views:read"])
    lookups: list[str] = []
    real_find = repository.find_key

    async def counting_find(key_id: str) -> ApiKey | None:
        lookups.append(key_id)
        return await real_find(key_id)

    monkeypatch.setattr(repository, "find_key", counting_find)
    cache = service.KeyCache(ttl_s=60, max_entries=2)

    for _ in range(3):
        partner, _ = await service.authenticate(key, cache)
    with pytest.raises(service.UnauthorizedError):
        await service.authenticate(key[:21] + "A" * 43, cache)  # cached id, wrong secret
    for unknown in ("0" * 16, "1" * 16):
        with pytest.raises(service.UnauthorizedError):
            await service.authenticate(f"bsk_{unknown}_{'A' * 43}", cache)

    assert partner.key_id == record.key_id
    assert lookups == [record.key_id, "0" * 16, "1" * 16]  # unknown ids are never cached
