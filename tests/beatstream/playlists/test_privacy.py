"""Who sees and changes which playlist: private ones exist only for their owner and admins."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from beatstream.auth.principals import Role
from tests.fixtures.auth import AsRole
from tests.fixtures.catalog import Factory

Clients = dict[str, httpx.AsyncClient]


@pytest.fixture
async def owner(make_listener: Factory) -> dict[str, Any]:
    return await make_listener()


@pytest.fixture
def clients(
    client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    as_role: AsRole,
    owner: dict[str, Any],
) -> Clients:
    return {
        "owner": as_role(Role.listener, owner["id"]),
        "admin": client,
        "other": as_role(Role.listener, PydanticObjectId()),
        "editor": as_role(Role.editor),
        "anonymous": anon_client,
    }


async def _playlist(
    clients: Clients, owner: dict[str, Any], make_song: Factory, visibility: str
) -> dict[str, Any]:
    song = await make_song()
    created = await clients["owner"].post(
        f"/v1/listeners/{owner['id']}/playlists", json={"name": "Mine", "visibility": visibility}
    )
    assert created.status_code == 201, created.text
    playlist: dict[str, Any] = created.json()
    added = await clients["owner"].post(
        f"/v1/playlists/{playlist['id']}/songs", json={"song_ids": [song["id"]]}
    )
    assert added.status_code == 200, added.text
    return playlist


def _not_found_shape(response: httpx.Response, playlist_id: str) -> dict[str, Any]:
    assert response.status_code == 404, response.text
    body: dict[str, Any] = response.json()
    assert body["detail"] == f"no playlist with id {playlist_id}"
    return {k: body[k] for k in ("type", "title", "status")}


async def test_a_private_playlist_is_a_404_to_everyone_but_its_owner_and_admins(
    clients: Clients, owner: dict[str, Any], make_song: Factory
) -> None:
    playlist = await _playlist(clients, owner, make_song, "private")
    url = f"/v1/playlists/{playlist['id']}"
    missing_id = str(PydanticObjectId())
    missing = _not_found_shape(
        await clients["owner"].get(f"/v1/playlists/{missing_id}"), missing_id
    )

    for who in ("owner", "admin"):
        response = await clients[who].get(url)
        assert response.status_code == 200, who
        assert [e["song"]["id"] for e in response.json()["songs"]]
    for who in ("other", "editor", "anonymous"):
        assert _not_found_shape(await clients[who].get(url), playlist["id"]) == missing, who


async def test_a_public_playlist_is_readable_by_anyone(
    clients: Clients, owner: dict[str, Any], make_song: Factory
) -> None:
    playlist = await _playlist(clients, owner, make_song, "public")

    for who, http in clients.items():
        response = await http.get(f"/v1/playlists/{playlist['id']}")
        assert response.status_code == 200, who
        assert len(response.json()["songs"]) == 1


async def test_someone_elses_private_playlist_cannot_be_changed_and_looks_missing(
    clients: Clients, owner: dict[str, Any], make_song: Factory
) -> None:
    playlist = await _playlist(clients, owner, make_song, "private")
    url = f"/v1/playlists/{playlist['id']}"
    other = clients["other"]

    for response in (
        await other.patch(url, json={"name": "Hijacked", "visibility": "public"}),
        await other.delete(url),
        await other.post(f"{url}/songs", json={"song_ids": [str(PydanticObjectId())]}),
        await other.delete(f"{url}/songs/0"),
    ):
        _not_found_shape(response, playlist["id"])

    unchanged = (await clients["owner"].get(url)).json()
    assert unchanged["name"] == "Mine"
    assert unchanged["visibility"] == "private"
    assert unchanged["version"] == playlist["version"] + 1  # only the owner's song add
    assert len(unchanged["songs"]) == 1


async def test_someone_elses_public_playlist_is_a_403_to_change(
    clients: Clients, owner: dict[str, Any], make_song: Factory
) -> None:
    """It is visible anyway, so saying "not yours" leaks nothing and is the truth."""
    playlist = await _playlist(clients, owner, make_song, "public")
    url = f"/v1/playlists/{playlist['id']}"

    for who in ("other", "editor"):
        response = await clients[who].patch(url, json={"name": "Hijacked"})
        assert response.status_code == 403, who
        assert response.json()["type"].endswith("/forbidden")
        assert (await clients[who].delete(url)).status_code == 403
    assert (await clients["anonymous"].delete(url)).status_code == 401

    assert (await clients["owner"].get(url)).json()["name"] == "Mine"
    assert (await clients["admin"].patch(url, json={"name": "Moderated"})).status_code == 200


async def test_a_listeners_playlists_are_listed_only_to_them_and_admins(
    clients: Clients, owner: dict[str, Any], make_song: Factory
) -> None:
    await _playlist(clients, owner, make_song, "public")
    url = f"/v1/listeners/{owner['id']}/playlists"

    for who in ("owner", "admin"):
        response = await clients[who].get(url)
        assert response.status_code == 200, who
        assert len(response.json()["items"]) == 1
    for who in ("other", "editor"):
        response = await clients[who].get(url)
        assert response.status_code == 404, who
        assert response.json()["detail"] == f"no listener with id {owner['id']}"
    assert (await clients["anonymous"].get(url)).status_code == 401


async def test_a_bad_token_on_an_open_read_is_still_a_401(
    clients: Clients, owner: dict[str, Any], make_song: Factory
) -> None:
    playlist = await _playlist(clients, owner, make_song, "public")

    response = await clients["anonymous"].get(
        f"/v1/playlists/{playlist['id']}", headers={"Authorization": "Bearer not-a-jwt"}
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
