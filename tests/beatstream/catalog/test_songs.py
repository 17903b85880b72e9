from __future__ import annotations

from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.catalog.documents import Song
from beatstream.stores.clients import MongoDocument
from tests.fixtures.catalog import Factory

MISSING_ID = "6650f1c2a1b2c3d4e5f60718"


async def test_create_song_denormalises_the_artist_name(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    artist = await make_artist(name="Mark Ronson")

    song = await make_song(artist["id"], title="Uptown Funk", views_per_country={"us": 5, "IT": 3})

    assert song["artist"] == {"id": artist["id"], "name": "Mark Ronson"}
    assert song["views_per_country"] == {"US": 5, "IT": 3}
    assert song["version"] == 1
    fetched = await client.get(f"/v1/songs/{song['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == song
    assert fetched.headers["etag"] == '"1"'


async def test_create_song_with_unknown_artist_is_422_and_writes_nothing(
    client: httpx.AsyncClient, rng: Any, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    from seed.builders import song_payload

    response = await client.post("/v1/songs", json=song_payload(rng, MISSING_ID))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "artist_id"
    assert await mongo_db.songs.count_documents({}) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": {"$ne": None}}, "title.$ne"),
        ({"views_per_country": {"$gt": 1}}, "views_per_country.$gt"),
        ({"views_per_country": {"a.b": 1}}, "views_per_country.a.b"),
        ({"owner": "me"}, "owner"),
        ({"id": MISSING_ID}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"duration_s": -1}, "duration_s"),
        ({"album": {"title": "x", "release_year": 1200}}, "album.release_year"),
        ({"views_per_country": {"XX": 1}}, "views_per_country.XX.[key]"),
        ({"views_per_country": {"US": -4}}, "views_per_country.US"),
        ({"title": "x" * 10_000}, "title"),
    ],
)
async def test_bad_song_bodies_are_422_naming_the_field_and_write_nothing(
    client: httpx.AsyncClient,
    make_artist: Factory,
    rng: Any,
    mongo_db: AsyncDatabase[MongoDocument],
    change: dict[str, Any],
    field: str,
) -> None:
    from seed.builders import song_payload

    artist = await make_artist()
    body = {**song_payload(rng, artist["id"]), **change}

    response = await client.post("/v1/songs", json=body)

    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await mongo_db.songs.count_documents({}) == 0


async def test_malformed_song_id_is_422_naming_the_parameter(client: httpx.AsyncClient) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(method, "/v1/songs/not-an-id", json={"genre": "pop"})
        assert response.status_code == 422, method
        assert response.json()["errors"][0]["field"] == "song_id"


async def test_unknown_song_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/v1/songs/{MISSING_ID}")).status_code == 404
    assert (await client.patch(f"/v1/songs/{MISSING_ID}", json={"genre": "pop"})).status_code == 404
    assert (await client.delete(f"/v1/songs/{MISSING_ID}")).status_code == 404


async def test_patch_changes_only_given_fields_and_bumps_the_version(
    client: httpx.AsyncClient, make_song: Factory, make_artist: Factory
) -> None:
    song = await make_song()
    other = await make_artist(name="Adele")

    response = await client.patch(
        f"/v1/songs/{song['id']}",
        json={"genre": "soul", "artist_id": other["id"]},
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 200
    updated = response.json()
    assert updated["genre"] == "soul"
    assert updated["artist"] == {"id": other["id"], "name": "Adele"}
    assert updated["title"] == song["title"]
    assert updated["version"] == 2
    assert response.headers["etag"] == '"2"'


async def test_patch_with_a_stale_etag_is_412_and_writes_nothing(
    client: httpx.AsyncClient, make_song: Factory
) -> None:
    song = await make_song()
    path = f"/v1/songs/{song['id']}"
    assert (await client.patch(path, json={"genre": "soul"})).status_code == 200

    stale = await client.patch(path, json={"genre": "jazz"}, headers={"If-Match": '"1"'})

    assert stale.status_code == 412
    assert (await client.get(path)).json()["genre"] == "soul"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({}, {}),
        ({"genre": None}, {}),
        ({"genre": "soul"}, {"If-Match": "three"}),
        ({"genre": "soul"}, {"If-Match": '"1", "2"'}),
    ],
)
async def test_bad_patches_are_422(
    client: httpx.AsyncClient, make_song: Factory, body: dict[str, Any], headers: dict[str, str]
) -> None:
    song = await make_song()
    response = await client.patch(f"/v1/songs/{song['id']}", json=body, headers=headers)
    assert response.status_code == 422
    assert (await client.get(f"/v1/songs/{song['id']}")).json()["version"] == 1


async def test_get_with_current_etag_is_304(client: httpx.AsyncClient, make_song: Factory) -> None:
    song = await make_song()
    response = await client.get(f"/v1/songs/{song['id']}", headers={"If-None-Match": '"1"'})
    assert response.status_code == 304
    assert response.content == b""
    changed = await client.get(f"/v1/songs/{song['id']}", headers={"If-None-Match": '"7"'})
    assert changed.status_code == 200


async def test_delete_honours_if_match(client: httpx.AsyncClient, make_song: Factory) -> None:
    song = await make_song()
    path = f"/v1/songs/{song['id']}"

    assert (await client.delete(path, headers={"If-Match": '"9"'})).status_code == 412
    assert (await client.delete(path, headers={"If-Match": '"1"'})).status_code == 204
    assert (await client.get(path)).status_code == 404


async def test_by_year_returns_that_year_only(
    client: httpx.AsyncClient, make_song: Factory
) -> None:
    artist_song = await make_song(album={"title": "Uptown Special", "release_year": 2014})
    await make_song(album={"title": "25", "release_year": 2015})

    response = await client.get("/v1/songs/by-year/2014")

    assert response.status_code == 200
    assert [s["id"] for s in response.json()] == [artist_song["id"]]
    assert (await client.get("/v1/songs/by-year/1200")).status_code == 422


async def test_by_artist_finds_mars(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    mars = await make_artist(name="Bruno Mars")
    adele = await make_artist(name="Adele")
    hit = await make_song(mars["id"], title="Uptown Funk")
    await make_song(adele["id"], title="Hello")

    response = await client.get("/v1/songs/by-artist", params={"q": "mars"})

    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body["items"]] == [hit["id"]]
    assert body["strategy"] in {"text_index", "regex_fallback"}


async def test_by_artist_treats_query_text_as_text(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    artist = await make_artist(name="$uicideboy$")
    await make_song(artist["id"])

    literal = await client.get("/v1/songs/by-artist", params={"q": "$uicideboy$"})
    pattern = await client.get("/v1/songs/by-artist", params={"q": ".*"})

    assert literal.status_code == 200
    assert len(literal.json()["items"]) == 1
    assert pattern.status_code == 200
    assert pattern.json()["items"] == []
    assert (await client.get("/v1/songs/by-artist", params={"q": ""})).status_code == 422


async def test_a_song_read_answers_the_stored_row_without_a_document_model(
    client: httpx.AsyncClient,
    make_artist: Factory,
    make_song: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hot read validates the driver's row into `SongOut` once; no Beanie `Song` is
    built (that cost a model validation per request), and the answer is unchanged."""
    artist = await make_artist(name="Mark Ronson")
    song = await make_song(artist["id"], title="Uptown Funk")

    def no_document(*args: object, **kwargs: object) -> None:
        raise AssertionError("a Song document was built for a read")

    monkeypatch.setattr(Song, "get", no_document)
    monkeypatch.setattr(Song, "model_validate", no_document)
    fetched = await client.get(f"/v1/songs/{song['id']}")

    assert fetched.status_code == 200
    assert fetched.json() == song
    assert fetched.headers["etag"] == '"1"'
    assert fetched.headers["content-type"] == "application/json"
