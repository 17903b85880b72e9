from __future__ import annotations

import asyncio
import re
from typing import Any

import fastapi.routing
import httpx
import pytest
from pymongo import monitoring

from beatstream.app import create_app
from beatstream.playlists.documents import MAX_SONGS
from beatstream.settings import Settings
from tests.fixtures.app import running
from tests.fixtures.catalog import Factory

MISSING_ID = "6650f1c2a1b2c3d4e5f60718"


@pytest.fixture
async def playlist(client: httpx.AsyncClient, make_listener: Factory) -> dict[str, Any]:
    listener = await make_listener()
    response = await client.post(
        f"/v1/listeners/{listener['id']}/playlists", json={"name": "Road trip"}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _add(
    client: httpx.AsyncClient, playlist_id: str, song_ids: list[str], **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/playlists/{playlist_id}/songs", json={"song_ids": song_ids, **extra}
    )


async def test_create_belongs_to_the_listener_in_the_path(
    client: httpx.AsyncClient, make_listener: Factory
) -> None:
    listener = await make_listener()

    response = await client.post(
        f"/v1/listeners/{listener['id']}/playlists", json={"name": "Focus", "visibility": "public"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["owner_id"] == listener["id"]
    assert body["song_ids"] == []
    assert response.headers["location"] == f"/v1/playlists/{body['id']}"


@pytest.mark.parametrize(
    ("path_id", "body", "status", "field"),
    [
        (MISSING_ID, {"name": "x"}, 404, None),
        ("nope", {"name": "x"}, 422, "listener_id"),
        (None, {"name": "x", "owner_id": MISSING_ID}, 422, "owner_id"),
        (None, {"name": "x", "song_ids": []}, 422, "song_ids"),
        (None, {"name": ""}, 422, "name"),
        (None, {"name": "x", "visibility": "secret"}, 422, "visibility"),
    ],
)
async def test_bad_creates(
    client: httpx.AsyncClient,
    make_listener: Factory,
    path_id: str | None,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    listener_id = path_id or (await make_listener())["id"]
    response = await client.post(f"/v1/listeners/{listener_id}/playlists", json=body)
    assert response.status_code == status
    if field:
        assert field in [e["field"] for e in response.json()["errors"]]


async def test_read_resolves_songs_in_playlist_order_with_duplicates(
    client: httpx.AsyncClient, playlist: dict[str, Any], make_song: Factory
) -> None:
    a, b, c = [await make_song() for _ in range(3)]
    await _add(client, playlist["id"], [a["id"], b["id"]])
    await _add(client, playlist["id"], [c["id"], a["id"]], position=1)

    response = await client.get(f"/v1/playlists/{playlist['id']}")

    assert response.status_code == 200
    body = response.json()
    assert [(e["position"], e["song"]["id"]) for e in body["songs"]] == [
        (0, a["id"]),
        (1, c["id"]),
        (2, a["id"]),
        (3, b["id"]),
    ]
    assert body["songs"][1]["song"] == c
    assert body["missing"] == []
    assert re.fullmatch(r'"3-[0-9a-f]{16}"', response.headers["etag"])


async def test_a_deleted_song_leaves_the_playlist_readable(
    client: httpx.AsyncClient, playlist: dict[str, Any], make_song: Factory
) -> None:
    kept, gone = await make_song(), await make_song()
    await _add(client, playlist["id"], [gone["id"], kept["id"]])
    assert (await client.delete(f"/v1/songs/{gone['id']}")).status_code == 204

    response = await client.get(f"/v1/playlists/{playlist['id']}")

    assert response.status_code == 200
    assert [e["song"]["id"] for e in response.json()["songs"]] == [kept["id"]]
    assert response.json()["missing"] == [{"position": 0, "song_id": gone["id"]}]


async def test_adding_an_unknown_song_is_422_naming_it_and_writes_nothing(
    client: httpx.AsyncClient, playlist: dict[str, Any], make_song: Factory
) -> None:
    song = await make_song()

    response = await _add(client, playlist["id"], [song["id"], MISSING_ID])

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "song_ids[1]"
    after = (await client.get(f"/v1/playlists/{playlist['id']}")).json()
    assert after["songs"] == []
    assert after["version"] == 1


async def test_remove_and_move(
    client: httpx.AsyncClient, playlist: dict[str, Any], make_song: Factory
) -> None:
    a, b, c = [await make_song() for _ in range(3)]
    await _add(client, playlist["id"], [a["id"], b["id"], c["id"]])
    path = f"/v1/playlists/{playlist['id']}"

    moved = await client.post(f"{path}/songs/move", json={"from_position": 2, "to_position": 0})
    removed = await client.delete(f"{path}/songs/1")

    assert moved.json()["song_ids"] == [c["id"], a["id"], b["id"]]
    assert removed.status_code == 200
    assert removed.json()["song_ids"] == [c["id"], b["id"]]
    assert (await client.delete(f"{path}/songs/2")).status_code == 404
    bad_move = await client.post(f"{path}/songs/move", json={"from_position": 5, "to_position": 0})
    assert bad_move.status_code == 422
    assert bad_move.json()["errors"][0]["field"] == "from_position"


async def test_rename_and_visibility_with_if_match(
    client: httpx.AsyncClient, playlist: dict[str, Any]
) -> None:
    path = f"/v1/playlists/{playlist['id']}"

    renamed = await client.patch(path, json={"name": "Summer"}, headers={"If-Match": '"1"'})
    stale = await client.patch(path, json={"visibility": "public"}, headers={"If-Match": '"1"'})

    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Summer"
    assert stale.status_code == 412
    assert (await client.get(path)).json()["visibility"] == "private"
    assert (await client.patch(path, json={})).status_code == 422


async def test_concurrent_adds_without_if_match_all_land(
    client: httpx.AsyncClient, playlist: dict[str, Any], make_song: Factory
) -> None:
    songs = [await make_song() for _ in range(6)]

    responses = await asyncio.gather(*(_add(client, playlist["id"], [s["id"]]) for s in songs))

    assert {r.status_code for r in responses} == {200}
    final = (await client.get(f"/v1/playlists/{playlist['id']}")).json()
    assert sorted(e["song"]["id"] for e in final["songs"]) == sorted(s["id"] for s in songs)


async def test_add_with_a_stale_if_match_is_412(
    client: httpx.AsyncClient, playlist: dict[str, Any], make_song: Factory
) -> None:
    song = await make_song()
    await _add(client, playlist["id"], [song["id"]])

    response = await client.post(
        f"/v1/playlists/{playlist['id']}/songs",
        json={"song_ids": [song["id"]]},
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 412


async def test_delete_and_list_by_owner(client: httpx.AsyncClient, make_listener: Factory) -> None:
    listener = await make_listener()
    base = f"/v1/listeners/{listener['id']}/playlists"
    ids = [(await client.post(base, json={"name": f"P{i}"})).json()["id"] for i in range(3)]

    first = (await client.get(base, params={"limit": 2})).json()
    second = (await client.get(base, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [p["id"] for p in first["items"] + second["items"]] == ids[::-1]

    assert (await client.delete(f"/v1/playlists/{ids[0]}")).status_code == 204
    assert (await client.get(f"/v1/playlists/{ids[0]}")).status_code == 404
    assert (await client.get(f"/v1/playlists/{MISSING_ID}")).status_code == 404
    assert (await client.get("/v1/playlists/xyz")).status_code == 422


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


async def test_reading_a_playlist_is_one_round_trip(
    settings: Settings, mongo_db: object, rng: Any
) -> None:
    """Counted by PyMongo's command monitoring on the app's own client."""
    from seed.builders import artist_payload, listener_payload, song_payload

    log = CommandLog()
    async with running(create_app(settings, mongo_listeners=[log])) as http:
        artist = (await http.post("/v1/artists", json=artist_payload(rng))).json()
        songs = [
            (await http.post("/v1/songs", json=song_payload(rng, artist["id"]))).json()
            for _ in range(20)
        ]
        listener = (await http.post("/v1/listeners", json=listener_payload(rng))).json()
        playlist = (
            await http.post(f"/v1/listeners/{listener['id']}/playlists", json={"name": "Twenty"})
        ).json()
        await _add(http, playlist["id"], [s["id"] for s in songs])
        log.names.clear()

        response = await http.get(f"/v1/playlists/{playlist['id']}")

    assert response.status_code == 200
    assert len(response.json()["songs"]) == 20
    assert log.names == ["aggregate"]


async def test_a_full_playlist_refuses_more_songs_with_409(
    client: httpx.AsyncClient, playlist: dict[str, Any], make_song: Factory
) -> None:
    song = await make_song()
    batch = [song["id"]] * 100
    for _ in range(MAX_SONGS // 100):
        assert (await _add(client, playlist["id"], batch)).status_code == 200

    response = await _add(client, playlist["id"], [song["id"]])

    assert response.status_code == 409
    after = await client.get(f"/v1/playlists/{playlist['id']}")
    assert len(after.json()["songs"]) == MAX_SONGS


async def test_a_playlist_read_is_serialised_once(
    client: httpx.AsyncClient,
    playlist: dict[str, Any],
    make_song: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Validated into `PlaylistWithSongs` once and sent as its JSON: FastAPI's response
    serialisation (a second validation of every song) never runs for it."""
    song = await make_song()
    await _add(client, playlist["id"], [song["id"]])
    serialised: list[object] = []
    original = fastapi.routing.serialize_response

    async def spy(*args: Any, **kwargs: Any) -> Any:
        serialised.append(kwargs.get("response_content"))
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "serialize_response", spy)
    response = await client.get(f"/v1/playlists/{playlist['id']}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["songs"] == [{"position": 0, "song": song}]
    assert serialised == []
