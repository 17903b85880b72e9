from __future__ import annotations

from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.stores.clients import MongoDocument
from tests.fixtures.catalog import Factory

MISSING_ID = "6650f1c2a1b2c3d4e5f60718"


async def test_artist_crud(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/v1/artists", json={"name": "Adele", "country": "gb", "genres": ["pop"]}
    )
    assert created.status_code == 201
    artist = created.json()
    assert artist["country"] == "GB"
    assert created.headers["location"] == f"/v1/artists/{artist['id']}"
    path = f"/v1/artists/{artist['id']}"

    assert (await client.get(path)).json() == artist
    patched = await client.patch(path, json={"genres": ["soul"]}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200
    assert patched.json()["genres"] == ["soul"]
    assert (await client.delete(path, headers={"If-Match": '"2"'})).status_code == 204
    assert (await client.get(path)).status_code == 404


async def test_renaming_an_artist_renames_every_song_copy(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    artist = await make_artist(name="Mark Ronson")
    songs = [await make_song(artist["id"]) for _ in range(3)]
    other = await make_song()

    response = await client.patch(f"/v1/artists/{artist['id']}", json={"name": "Ronson"})

    assert response.status_code == 200
    for song in songs:
        assert (await client.get(f"/v1/songs/{song['id']}")).json()["artist"]["name"] == "Ronson"
    assert (await client.get(f"/v1/songs/{other['id']}")).json()["artist"] == other["artist"]


async def test_an_artist_with_songs_cannot_be_deleted(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    artist = await make_artist()
    await make_song(artist["id"])

    response = await client.delete(f"/v1/artists/{artist['id']}")

    assert response.status_code == 409
    assert (await client.get(f"/v1/artists/{artist['id']}")).status_code == 200


async def test_artist_songs_lists_only_theirs(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    artist = await make_artist()
    theirs = {(await make_song(artist["id"]))["id"] for _ in range(3)}
    await make_song()

    response = await client.get(f"/v1/artists/{artist['id']}/songs", params={"limit": 10})

    assert {s["id"] for s in response.json()["items"]} == theirs
    assert (await client.get(f"/v1/artists/{MISSING_ID}/songs")).status_code == 404


async def test_artist_list_pages_by_name(client: httpx.AsyncClient, make_artist: Factory) -> None:
    for name in ("Cher", "Adele", "Bjork"):
        await make_artist(name=name)

    first = (await client.get("/v1/artists", params={"sort": "name", "limit": 2})).json()
    second = (
        await client.get(
            "/v1/artists", params={"sort": "name", "limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()

    assert [a["name"] for a in first["items"] + second["items"]] == ["Adele", "Bjork", "Cher"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "country": "GB"}, "name"),
        ({"name": "A", "country": "ZZ"}, "country"),
        ({"name": "A", "country": "GB", "genres": ["Not A Slug!"]}, "genres[0]"),
        ({"name": "A", "country": "GB", "version": 7}, "version"),
        ({"name": {"$gt": ""}, "country": "GB"}, "name.$gt"),
    ],
)
async def test_bad_artist_bodies_are_422_and_write_nothing(
    client: httpx.AsyncClient,
    mongo_db: AsyncDatabase[MongoDocument],
    body: dict[str, Any],
    field: str,
) -> None:
    response = await client.post("/v1/artists", json=body)

    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await mongo_db.artists.count_documents({}) == 0


async def test_unknown_and_malformed_artist_ids(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/v1/artists/{MISSING_ID}")).status_code == 404
    assert (await client.patch(f"/v1/artists/{MISSING_ID}", json={"name": "x"})).status_code == 404
    malformed = await client.get("/v1/artists/123")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "artist_id"
