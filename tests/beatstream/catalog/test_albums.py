from __future__ import annotations

import httpx

from tests.fixtures.catalog import Factory


async def test_albums_are_grouped_from_songs_with_track_counts(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    artist = await make_artist(name="Adele")
    album_21 = {"title": "21", "release_year": 2011}
    tracks = [await make_song(artist["id"], album=album_21) for _ in range(3)]
    await make_song(artist["id"], album={"title": "25", "release_year": 2015})
    await make_song(album={"title": "21", "release_year": 2011})  # same title, other artist

    listed = await client.get("/v1/albums", params={"artist_id": artist["id"]})

    assert listed.status_code == 200
    albums = listed.json()["items"]
    assert [(a["title"], a["release_year"], a["track_count"]) for a in albums] == [
        ("21", 2011, 3),
        ("25", 2015, 1),
    ]
    detail = await client.get(f"/v1/albums/{albums[0]['id']}")
    assert detail.status_code == 200
    assert [t["id"] for t in detail.json()["tracks"]] == [t["id"] for t in tracks]
    assert detail.json()["artist"] == {"id": artist["id"], "name": "Adele"}


async def test_album_pages_cover_every_album_once(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    artist = await make_artist()
    for i in range(5):
        await make_song(artist["id"], album={"title": f"Album {i}", "release_year": 2000 + i})

    seen, cursor = [], None
    while True:
        params = {"artist_id": artist["id"], "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/albums", params=params)).json()
        seen += [a["title"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [f"Album {i}" for i in range(5)]


async def test_unknown_or_malformed_album_ids(client: httpx.AsyncClient) -> None:
    """Album ids are opaque: one this API never issued names no album (404), like an
    unknown one; a malformed list cursor is a 422 naming `cursor`, the parameter sent."""
    assert (await client.get("/v1/albums/%%%")).status_code == 404
    unknown = "NjY1MGYxYzJhMWIyYzNkNGU1ZjYwNzE4fDIwMTF8MjE"  # a valid id of no album
    assert (await client.get(f"/v1/albums/{unknown}")).status_code == 404
    refused = await client.get("/v1/albums", params={"cursor": "zzz"})
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["cursor"]
