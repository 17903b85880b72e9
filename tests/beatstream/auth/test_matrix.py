"""The auth matrix: every write endpoint, every kind of caller, the expected status.

The endpoints are read from `app.routes`, so a write endpoint added without a row
here fails `test_every_write_endpoint_has_a_row` (and its own cases): nobody ships
an endpoint without deciding who may call it. A refused request must also leave
MongoDB exactly as it was.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.app import create_app
from beatstream.auth.principals import Role
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from seed.builders import artist_payload, listener_payload, play_payload, song_payload
from tests.fixtures.auth import AsRole
from tests.fixtures.catalog import Factory
from tests.fixtures.tokens import TEST_SECURITY

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SELF_PASSWORD = "self-password-1"


class Caller(StrEnum):
    anonymous = "anonymous"
    listener_self = "listener-self"
    other_listener = "other-listener"
    editor = "editor"
    admin = "admin"


@dataclass(frozen=True)
class World:
    """What the requests act on: `self` owns the private playlist (two songs in it)."""

    artist_id: str
    spare_artist_id: str  # no songs, so it can be deleted
    song_id: str
    spare_song_id: str
    self_id: str
    self_email: str
    other_id: str
    playlist_id: str
    key_id: str  # a live partner API key


Request = Callable[[World, random.Random], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Row:
    request: Request
    expected: dict[Caller, int]


def editors(ok: int) -> dict[Caller, int]:
    return {
        Caller.anonymous: 401,
        Caller.listener_self: 403,
        Caller.other_listener: 403,
        Caller.editor: ok,
        Caller.admin: ok,
    }


def owner(ok: int) -> dict[Caller, int]:
    """Someone else's listener or private playlist: 404, as if it did not exist."""
    return {
        Caller.anonymous: 401,
        Caller.listener_self: ok,
        Caller.other_listener: 404,
        Caller.editor: 404,
        Caller.admin: ok,
    }


def own_plays(ok: int) -> dict[Caller, int]:
    """Plays name their listener in the body: someone else's is a 403 naming the field."""
    return {
        Caller.anonymous: 401,
        Caller.listener_self: ok,
        Caller.other_listener: 403,
        Caller.editor: 403,
        Caller.admin: ok,
    }


def admins(ok: int) -> dict[Caller, int]:
    return {**editors(ok), Caller.editor: 403}


def with_token(ok: int) -> dict[Caller, int]:
    return {caller: 401 if caller is Caller.anonymous else ok for caller in Caller}


def own_password(ok: int) -> dict[Caller, int]:
    """Only `self` knows the password the request sends; everyone else's is wrong."""
    return {**dict.fromkeys(Caller, 403), Caller.anonymous: 401, Caller.listener_self: ok}


def anyone(ok: int) -> dict[Caller, int]:
    return dict.fromkeys(Caller, ok)


MATRIX: dict[str, Row] = {
    # Auth
    "POST /v1/auth/token": Row(
        lambda w, _: (
            "/v1/auth/token",
            {"data": {"username": w.self_email, "password": SELF_PASSWORD}},
        ),
        anyone(200),
    ),
    "POST /v1/auth/logout": Row(lambda w, _: ("/v1/auth/logout", {}), with_token(204)),
    "POST /v1/auth/logout-all": Row(lambda w, _: ("/v1/auth/logout-all", {}), with_token(204)),
    "POST /v1/auth/password": Row(
        lambda w, _: (
            "/v1/auth/password",
            {"json": {"current_password": SELF_PASSWORD, "new_password": "a new password 2"}},
        ),
        own_password(200),
    ),
    # Catalogue: editors
    "POST /v1/artists": Row(
        lambda w, r: ("/v1/artists", {"json": artist_payload(r)}), editors(201)
    ),
    "PATCH /v1/artists/{artist_id}": Row(
        lambda w, _: (f"/v1/artists/{w.artist_id}", {"json": {"name": "Renamed"}}), editors(200)
    ),
    "DELETE /v1/artists/{artist_id}": Row(
        lambda w, _: (f"/v1/artists/{w.spare_artist_id}", {}), editors(204)
    ),
    "POST /v1/songs": Row(
        lambda w, r: ("/v1/songs", {"json": song_payload(r, w.artist_id)}), editors(201)
    ),
    "PATCH /v1/songs/{song_id}": Row(
        lambda w, _: (f"/v1/songs/{w.song_id}", {"json": {"title": "Renamed"}}), editors(200)
    ),
    "DELETE /v1/songs/{song_id}": Row(
        lambda w, _: (f"/v1/songs/{w.spare_song_id}", {}), editors(204)
    ),
    # Listeners: registration is open, the rest is the listener's own
    "POST /v1/listeners": Row(
        lambda w, r: ("/v1/listeners", {"json": listener_payload(r)}), anyone(201)
    ),
    "PATCH /v1/listeners/{listener_id}": Row(
        lambda w, _: (f"/v1/listeners/{w.self_id}", {"json": {"name": "New Name"}}), owner(200)
    ),
    "DELETE /v1/listeners/{listener_id}": Row(
        lambda w, _: (f"/v1/listeners/{w.self_id}", {}), owner(204)
    ),
    "POST /v1/listeners/{listener_id}/actions": Row(
        lambda w, _: (
            f"/v1/listeners/{w.self_id}/actions",
            {"json": {"action": "premium subscription"}},
        ),
        owner(200),
    ),
    "POST /v1/listeners/{listener_id}/playlists": Row(
        lambda w, _: (f"/v1/listeners/{w.self_id}/playlists", {"json": {"name": "Mine"}}),
        owner(201),
    ),
    # Plays: one's own
    "POST /v1/plays": Row(
        lambda w, r: ("/v1/plays", {"json": play_payload(r, w.self_id, w.song_id)}),
        own_plays(201),
    ),
    "POST /v1/plays/batch": Row(
        lambda w, r: (
            "/v1/plays/batch",
            {"json": {"events": [play_payload(r, w.self_id, w.song_id) for _ in range(3)]}},
        ),
        own_plays(201),
    ),
    # Playlists: the owner's (this one is private)
    "PATCH /v1/playlists/{playlist_id}": Row(
        lambda w, _: (f"/v1/playlists/{w.playlist_id}", {"json": {"name": "Renamed"}}),
        owner(200),
    ),
    "DELETE /v1/playlists/{playlist_id}": Row(
        lambda w, _: (f"/v1/playlists/{w.playlist_id}", {}), owner(204)
    ),
    "POST /v1/playlists/{playlist_id}/songs": Row(
        lambda w, _: (f"/v1/playlists/{w.playlist_id}/songs", {"json": {"song_ids": [w.song_id]}}),
        owner(200),
    ),
    "DELETE /v1/playlists/{playlist_id}/songs/{position}": Row(
        lambda w, _: (f"/v1/playlists/{w.playlist_id}/songs/0", {}), owner(200)
    ),
    "POST /v1/playlists/{playlist_id}/songs/move": Row(
        lambda w, _: (
            f"/v1/playlists/{w.playlist_id}/songs/move",
            {"json": {"from_position": 0, "to_position": 1}},
        ),
        owner(200),
    ),
    # Partner keys: admins
    "POST /v1/admin/keys": Row(
        lambda w, _: ("/v1/admin/keys", {"json": {"name": "acme", "scopes": ["views:read"]}}),
        admins(201),
    ),
    "DELETE /v1/admin/keys/{key_id}": Row(
        lambda w, _: (f"/v1/admin/keys/{w.key_id}", {}), admins(204)
    ),
}


def write_endpoints() -> list[str]:
    """`METHOD /path` of every write route the app serves (included routers flattened)."""
    app = create_app(Settings(security=TEST_SECURITY))
    return sorted(
        f"{method} {context.path}"
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.original_route.methods & WRITE_METHODS
    )


WRITE_ENDPOINTS = write_endpoints()


def test_every_write_endpoint_has_a_row() -> None:
    assert set(WRITE_ENDPOINTS) == set(MATRIX), "decide who may call each write endpoint"


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    make_artist: Factory,
    make_song: Factory,
    make_listener: Factory,
) -> World:
    artist = await make_artist()
    spare_artist = await make_artist()
    song = await make_song(artist["id"])
    spare_song = await make_song(artist["id"])
    me = await make_listener(password=SELF_PASSWORD)
    other = await make_listener()
    created = await client.post(f"/v1/listeners/{me['id']}/playlists", json={"name": "Private"})
    assert created.status_code == 201, created.text
    playlist_id = created.json()["id"]
    added = await client.post(
        f"/v1/playlists/{playlist_id}/songs", json={"song_ids": [song["id"], song["id"]]}
    )
    assert added.status_code == 200, added.text
    key = await client.post("/v1/admin/keys", json={"name": "acme", "scopes": ["views:read"]})
    assert key.status_code == 201, key.text
    return World(
        artist_id=artist["id"],
        spare_artist_id=spare_artist["id"],
        song_id=song["id"],
        spare_song_id=spare_song["id"],
        self_id=me["id"],
        self_email=me["email"],
        other_id=other["id"],
        playlist_id=playlist_id,
        key_id=key.json()["key_id"],
    )


@pytest.fixture
async def callers(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient, as_role: AsRole, world: World
) -> dict[Caller, httpx.AsyncClient]:
    return {
        Caller.anonymous: anon_client,
        Caller.listener_self: as_role(Role.listener, world.self_id),
        Caller.other_listener: as_role(Role.listener, world.other_id),
        Caller.editor: as_role(Role.editor),
        Caller.admin: client,
    }


async def snapshot(db: AsyncDatabase[MongoDocument]) -> dict[str, list[MongoDocument]]:
    return {
        name: await db[name].find({}).sort("_id", 1).to_list()
        for name in sorted(await db.list_collection_names())
    }


@pytest.mark.parametrize("caller", list(Caller))
@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
async def test_who_may_call_each_write_endpoint(
    endpoint: str,
    caller: Caller,
    world: World,
    callers: dict[Caller, httpx.AsyncClient],
    mongo_db: AsyncDatabase[MongoDocument],
    rng: random.Random,
) -> None:
    row = MATRIX.get(endpoint)
    if row is None:
        pytest.fail(f"{endpoint} has no row in the auth matrix")
    method = endpoint.split(" ", 1)[0]
    url, kwargs = row.request(world, rng)
    before = await snapshot(mongo_db)

    response = await callers[caller].request(method, url, **kwargs)

    expected = row.expected[caller]
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert await snapshot(mongo_db) == before, "a refused request wrote something"
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
