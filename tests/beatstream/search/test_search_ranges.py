"""Song search filters and orders the dashboard needs: duration range, one artist, sort by
views or year, and each hit's views and duration. Expected values are recomputed from the rows."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from bson import ObjectId

from tests.fixtures.search import IndexSongs, song_row


@pytest.fixture
def rows(rng: random.Random) -> list[dict[str, Any]]:
    artists = [{"id": ObjectId(), "name": f"Artist {i}"} for i in range(4)]
    return [song_row(rng, rng.choice(artists)) for _ in range(40)]


async def _all(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every page of a search, in order."""
    items: list[dict[str, Any]] = []
    params = {"limit": 7, **params}
    while True:
        response = await client.get("/v1/search/songs", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        params["cursor"] = body["next_cursor"]


def _views(row: dict[str, Any]) -> int:
    return sum(row["views_per_country"].values())


async def test_duration_range_is_inclusive(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, rows: list[dict[str, Any]]
) -> None:
    await index_songs(rows)
    low, high = sorted(r["duration_s"] for r in rows)[10], sorted(r["duration_s"] for r in rows)[30]

    found = await _all(search_client, duration_min=low, duration_max=high)

    assert {h["id"] for h in found} == {
        str(r["_id"]) for r in rows if low <= r["duration_s"] <= high
    }
    # `duration_s` is each song's length in the catalogue (the filtered field), not a timing.
    assert all(low <= h["duration_s"] <= high for h in found)


async def test_artist_filter_keeps_only_that_artists_songs(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, rows: list[dict[str, Any]]
) -> None:
    await index_songs(rows)
    artist = rows[0]["artist"]["id"]

    found = await _all(search_client, artist=str(artist).upper())

    assert {h["id"] for h in found} == {str(r["_id"]) for r in rows if r["artist"]["id"] == artist}


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("views", lambda r: (_views(r), str(r["_id"]))),
        ("-views", lambda r: (-_views(r), str(r["_id"]))),
        ("year", lambda r: (r["album"]["release_year"], str(r["_id"]))),
        ("-year", lambda r: (-r["album"]["release_year"], str(r["_id"]))),
    ],
)
async def test_sorts_page_through_every_song_in_order(
    search_client: httpx.AsyncClient,
    index_songs: IndexSongs,
    rows: list[dict[str, Any]],
    sort: str,
    key: Any,
) -> None:
    await index_songs(rows)

    found = await _all(search_client, sort=sort)

    assert [h["id"] for h in found] == [str(r["_id"]) for r in sorted(rows, key=key)]
    by_id = {str(r["_id"]): r for r in rows}
    assert all(h["views"] == _views(by_id[h["id"]]) for h in found)


async def test_a_cursor_belongs_to_its_sort(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, rows: list[dict[str, Any]]
) -> None:
    await index_songs(rows)
    first = await search_client.get("/v1/search/songs", params={"sort": "year", "limit": 1})

    response = await search_client.get(
        "/v1/search/songs", params={"sort": "views", "cursor": first.json()["next_cursor"]}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"duration_min": 0}, "duration_min"),
        ({"duration_max": "long"}, "duration_max"),
        ({"duration_min": 300, "duration_max": 200}, "query"),
        ({"artist": "not-an-id"}, "artist"),
        ({"sort": "title"}, "sort"),
    ],
)
async def test_bad_ranges_sorts_and_artists_are_422(
    search_client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await search_client.get("/v1/search/songs", params=params)

    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_new_parameters_are_in_the_cache_key(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, rows: list[dict[str, Any]]
) -> None:
    """A cached answer for one range is never served for another."""
    await index_songs(rows)
    short = await search_client.get("/v1/search/songs", params={"duration_max": 200})
    long = await search_client.get("/v1/search/songs", params={"duration_min": 201})

    assert long.headers["X-Cache"] == "miss"
    assert short.json()["total"] + long.json()["total"] == len(rows)
