"""Song lists: filters, sorts, and cursor pages that stay stable while songs are added."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.fixtures.catalog import Factory


async def _all_pages(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = await client.get(
            "/v1/songs", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_filters_combine(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    artist = await make_artist()
    match = await make_song(
        artist["id"],
        genre="funk",
        album={"title": "A", "release_year": 2014},
        views_per_country={"IT": 3},
    )
    await make_song(
        artist["id"],
        genre="funk",
        album={"title": "B", "release_year": 1999},
        views_per_country={"IT": 3},
    )
    await make_song(
        artist["id"],
        genre="pop",
        album={"title": "C", "release_year": 2014},
        views_per_country={"IT": 3},
    )
    await make_song(
        artist["id"],
        genre="funk",
        album={"title": "D", "release_year": 2015},
        views_per_country={"US": 3},
    )
    await make_song(
        genre="funk", album={"title": "E", "release_year": 2014}, views_per_country={"IT": 3}
    )

    items = await _all_pages(
        client, genre="funk", artist_id=artist["id"], year_from=2010, year_to=2020, country="it"
    )

    assert [s["id"] for s in items] == [match["id"]]


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("-created_at", "created_at", True),
        ("created_at", "created_at", False),
        ("title", "title", False),
        ("-title", "title", True),
        ("release_year", "release_year", False),
        ("-release_year", "release_year", True),
    ],
)
async def test_every_sort_pages_through_everything_once(
    client: httpx.AsyncClient,
    make_artist: Factory,
    make_song: Factory,
    sort: str,
    key: str,
    reverse: bool,
) -> None:
    artist = await make_artist()
    created = [
        await make_song(
            artist["id"], title=f"Song {i % 3}", album={"title": "X", "release_year": 2000 + i % 4}
        )
        for i in range(9)
    ]

    items = await _all_pages(client, sort=sort, limit=2)

    assert sorted(s["id"] for s in items) == sorted(s["id"] for s in created)

    def value(song: dict[str, Any]) -> Any:
        return song["album"]["release_year"] if key == "release_year" else song[key]

    values = [value(s) for s in items]
    assert values == sorted(values, reverse=reverse)


async def test_pages_stay_stable_while_songs_are_inserted(
    client: httpx.AsyncClient, make_artist: Factory, make_song: Factory
) -> None:
    """Newest-first pages: songs added mid-way neither repeat nor push older ones out."""
    artist = await make_artist()
    original = {(await make_song(artist["id"]))["id"] for _ in range(12)}

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5, "artist_id": artist["id"]}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/songs", params=params)).json()
        seen += [s["id"] for s in page["items"]]
        await asyncio.gather(*(make_song(artist["id"]) for _ in range(3)))
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)), "a song appeared on two pages"
    assert original <= set(seen), "a song present from the start was skipped"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"year_from": 1800}, "year_from"),
        ({"country": "XX"}, "country"),
        ({"sort": "views"}, "sort"),
        ({"artist_id": "nope"}, "artist_id"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"genre": "$where"}, "genre"),
        ({"title": "x"}, "title"),
        ({"title[$ne]": "x"}, "title[$ne]"),
        ({"$where": "1"}, "$where"),
        ({"album.title": "x"}, "album.title"),
        ({"year_from": 2020, "year_to": 2010}, "year_from"),
    ],
)
async def test_bad_list_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/v1/songs", params=params)

    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_a_cursor_is_bound_to_its_sort(client: httpx.AsyncClient, make_song: Factory) -> None:
    for _ in range(3):
        await make_song()
    cursor = (await client.get("/v1/songs", params={"limit": 1, "sort": "title"})).json()[
        "next_cursor"
    ]

    response = await client.get("/v1/songs", params={"cursor": cursor, "sort": "-created_at"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"
