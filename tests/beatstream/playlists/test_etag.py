"""The playlist read's ETag names its representation (the playlist AND its songs), so
`If-None-Match` never keeps a stale body; a write's `If-Match` takes that tag back and
compares the playlist's own version only."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from beatstream.app import create_app
from beatstream.auth.principals import Role
from beatstream.common.concurrency import IF_MATCH_PATTERN
from beatstream.playlists import service
from beatstream.settings import Settings
from tests.fixtures.auth import AsRole
from tests.fixtures.catalog import Factory

READ_TAG = re.compile(r'"(\d+)-[0-9a-f]{16}"')


async def _playlist(
    http: httpx.AsyncClient, listener_id: str, song_ids: list[str], visibility: str
) -> str:
    """A playlist holding `song_ids` (version 2), by its URL."""
    created = await http.post(
        f"/v1/listeners/{listener_id}/playlists", json={"name": "Mix", "visibility": visibility}
    )
    assert created.status_code == 201, created.text
    playlist_id: str = created.json()["id"]
    added = await http.post(f"/v1/playlists/{playlist_id}/songs", json={"song_ids": song_ids})
    assert added.status_code == 200, added.text
    return f"/v1/playlists/{playlist_id}"


async def test_editing_an_embedded_song_changes_the_read_etag_and_body(
    client: httpx.AsyncClient, make_listener: Factory, make_song: Factory
) -> None:
    """The playlist's own version does not move when a song it shows is edited; the
    body does, and so must the ETag, or a revalidating cache keeps the old body."""
    song, other = await make_song(), await make_song()
    listener = await make_listener()
    url = await _playlist(client, listener["id"], [song["id"], other["id"]], "private")
    before = await client.get(url)

    edited = await client.patch(f"/v1/songs/{song['id']}", json={"title": "Renamed"})
    assert edited.status_code == 200, edited.text
    after = await client.get(url)
    revalidated = await client.get(url, headers={"If-None-Match": before.headers["etag"]})

    assert after.json()["version"] == before.json()["version"] == 2
    assert after.json()["songs"][0]["song"]["title"] == "Renamed"
    assert after.headers["etag"] != before.headers["etag"]
    for tag in (before.headers["etag"], after.headers["etag"]):
        match = READ_TAG.fullmatch(tag)
        assert match is not None, tag
        assert match[1] == "2", tag
    assert revalidated.status_code == 200
    assert revalidated.content == after.content
    assert revalidated.headers["etag"] == after.headers["etag"]


async def test_a_current_etag_is_304_to_the_owner_and_still_404_to_others(
    as_role: AsRole, make_listener: Factory, make_song: Factory
) -> None:
    """The routed path, with a token, for a private playlist (never kept): the 304
    comes after the privacy check, so it tells a stranger nothing."""
    listener = await make_listener()
    owner = as_role(Role.listener, listener["id"])
    stranger = as_role(Role.listener)
    url = await _playlist(owner, listener["id"], [(await make_song())["id"]], "private")
    tag = (await owner.get(url)).headers["etag"]

    not_modified = await owner.get(url, headers={"If-None-Match": tag})
    weak_in_a_list = await owner.get(url, headers={"If-None-Match": f'"1", W/{tag}'})
    hidden = await stranger.get(url, headers={"If-None-Match": tag})

    assert not_modified.status_code == weak_in_a_list.status_code == 304
    assert not_modified.headers["etag"] == tag
    assert not_modified.content == b""
    assert hidden.status_code == 404


async def test_a_kept_public_playlist_answers_304_before_routing(
    client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    make_listener: Factory,
    make_song: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Anonymous reads of a kept public playlist are the fast path's: once kept, the
    route (`service.read_answer`) is never reached, for the 304 as for the 200."""
    listener = await make_listener()
    url = await _playlist(client, listener["id"], [(await make_song())["id"]], "public")
    first = await anon_client.get(url)  # the route keeps it
    routed: list[object] = []
    original = service.read_answer

    async def spy(*args: Any, **kwargs: Any) -> service.PlaylistAnswer:
        routed.append(args)
        return await original(*args, **kwargs)

    monkeypatch.setattr(service, "read_answer", spy)
    not_modified = await anon_client.get(url, headers={"If-None-Match": first.headers["etag"]})
    stale = await anon_client.get(url, headers={"If-None-Match": '"1-0000000000000000"'})

    assert not_modified.status_code == 304
    assert not_modified.headers["etag"] == first.headers["etag"]
    assert not_modified.content == b""
    assert stale.status_code == 200
    assert stale.content == first.content
    assert stale.headers["etag"] == first.headers["etag"]
    assert routed == []


async def test_a_write_takes_back_the_read_etag_and_compares_the_playlist_version(
    client: httpx.AsyncClient, make_listener: Factory, make_song: Factory
) -> None:
    """GET then write with the ETag it gave: accepted, even after a song it shows was
    edited elsewhere (a write's precondition is the playlist's own state); a tag of
    an older playlist version is 412; a malformed one a 4xx naming the header."""
    song = await make_song()
    listener = await make_listener()
    url = await _playlist(client, listener["id"], [song["id"]], "private")
    read_tag = (await client.get(url)).headers["etag"]
    assert READ_TAG.fullmatch(read_tag), read_tag
    assert (await client.patch(f"/v1/songs/{song['id']}", json={"title": "x"})).status_code == 200

    renamed = await client.patch(url, json={"name": "Renamed"}, headers={"If-Match": read_tag})
    assert renamed.status_code == 200, renamed.text
    added = await client.post(
        f"{url}/songs",
        json={"song_ids": [song["id"]]},
        headers={"If-Match": renamed.headers["etag"]},
    )
    moved = await client.post(
        f"{url}/songs/move",
        json={"from_position": 1, "to_position": 0},
        headers={"If-Match": (await client.get(url)).headers["etag"]},
    )
    stale = await client.patch(url, json={"name": "Lost"}, headers={"If-Match": read_tag})

    assert renamed.headers["etag"] == '"3"'
    assert added.status_code == 200, added.text
    assert moved.status_code == 200, moved.text
    assert moved.headers["etag"] == '"5"'
    assert stale.status_code == 412
    assert (await client.get(url)).json()["name"] == "Renamed"
    for malformed in ('"2-abc"', '"2-"', "2-0123456789abcdef", '"2-0123456789ABCDEF"', "W/2"):
        refused = await client.patch(url, json={"name": "Bad"}, headers={"If-Match": malformed})
        assert refused.status_code in (400, 422), malformed
        assert [e["field"].lower() for e in refused.json()["errors"]] == ["if-match"], malformed
    assert (await client.get(url)).json()["name"] == "Renamed"


def test_the_schema_says_the_read_etag_and_its_304() -> None:
    document = create_app(Settings()).openapi()
    read = document["paths"]["/v1/playlists/{playlist_id}"]["get"]
    write = document["paths"]["/v1/playlists/{playlist_id}"]["patch"]
    if_match = next(p for p in write["parameters"] if p["name"] == "if-match")

    assert "304" in read["responses"]
    assert any(p["name"] == "if-none-match" for p in read["parameters"])
    assert if_match["schema"]["pattern"] == IF_MATCH_PATTERN
    assert re.fullmatch(IF_MATCH_PATTERN, ' W/"3-0123456789abcdef" ')
    song_write = document["paths"]["/v1/songs/{song_id}"]["patch"]
    song_if_match = next(p for p in song_write["parameters"] if p["name"] == "if-match")
    assert not re.fullmatch(song_if_match["schema"]["pattern"], '"3-0123456789abcdef"')
