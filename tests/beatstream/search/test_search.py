"""Song search against the real Elasticsearch: relevance, facets, pages, validation."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx
import pytest
from bson import ObjectId
from elasticsearch import AsyncElasticsearch

from beatstream.app import create_app
from beatstream.deps import get_es
from beatstream.settings import Settings
from tests.fixtures.app import running
from tests.fixtures.ports import unused_port
from tests.fixtures.search import IndexSongs, song_row


@pytest.fixture
def catalogue(rng: random.Random) -> list[dict[str, Any]]:
    ronson = {"id": ObjectId(), "name": "Mark Ronson"}
    beyonce = {"id": ObjectId(), "name": "Beyoncé"}
    rows = [
        song_row(
            rng,
            ronson,
            title="Uptown Funk",
            genre="funk",
            album={"title": "Uptown Special", "release_year": 2014},
            views_per_country={"US": 50, "IT": 7},
        ),
        song_row(
            rng,
            beyonce,
            title="Halo",
            genre="pop",
            album={"title": "I Am... Sasha Fierce", "release_year": 2008},
            views_per_country={"US": 40},
        ),
    ]
    rows += [song_row(rng) for _ in range(40)]
    return rows


async def _search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/search/songs", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_typo_still_finds_the_song(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, catalogue: list[dict[str, Any]]
) -> None:
    await index_songs(catalogue)

    body = await _search(search_client, q="uptwn fnk")

    assert body["items"][0]["title"] == "Uptown Funk"
    fragments = [f for field in body["items"][0]["highlight"].values() for f in field]
    assert any("<em>" in fragment for fragment in fragments)


async def test_accents_fold_both_ways(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, catalogue: list[dict[str, Any]]
) -> None:
    await index_songs(catalogue)

    body = await _search(search_client, q="beyonce")

    assert body["items"][0]["artist"]["name"] == "Beyoncé"


async def test_facets_count_every_match_as_computed_independently(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, catalogue: list[dict[str, Any]]
) -> None:
    await index_songs(catalogue)
    in_us = [r for r in catalogue if r["views_per_country"].get("US", 0) > 0]

    body = await _search(search_client, country="us", limit=5)

    assert body["total"] == len(in_us)
    assert {f["genre"]: f["count"] for f in body["facets"]["genres"]} == Counter(
        r["genre"] for r in in_us
    )
    assert {f["decade"]: f["count"] for f in body["facets"]["decades"]} == Counter(
        r["album"]["release_year"] // 10 * 10 for r in in_us
    )


async def test_filters_combine(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, catalogue: list[dict[str, Any]]
) -> None:
    await index_songs(catalogue)
    expected = {
        str(r["_id"])
        for r in catalogue
        if r["genre"] == "funk"
        and 2010 <= r["album"]["release_year"] <= 2020
        and r["views_per_country"].get("IT", 0) > 0
    }

    body = await _search(
        search_client, genre="funk", year_from=2010, year_to=2020, country="IT", limit=100
    )

    assert {h["id"] for h in body["items"]} == expected


async def test_deep_pages_cover_every_match_once(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, catalogue: list[dict[str, Any]]
) -> None:
    await index_songs(catalogue)

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 7}
    while True:
        body = await _search(search_client, **params)
        seen += [h["id"] for h in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]

    assert len(seen) == len(set(seen)) == len(catalogue)


async def test_a_cursor_belongs_to_its_search(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, catalogue: list[dict[str, Any]]
) -> None:
    await index_songs(catalogue)
    cursor = (await _search(search_client, q="funk", limit=1))["next_cursor"]

    response = await search_client.get("/v1/search/songs", params={"q": "halo", "cursor": cursor})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    "q", ['title:"x" AND *', "a OR b) (", "\\", "/.*/", "artist_name:*", "*:*"]
)
async def test_query_syntax_in_q_is_only_text(
    search_client: httpx.AsyncClient,
    index_songs: IndexSongs,
    catalogue: list[dict[str, Any]],
    q: str,
) -> None:
    await index_songs(catalogue)
    body = await _search(search_client, q=q)
    assert body["total"] < len(catalogue)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 513}, "q"),
        ({"country": "XX"}, "country"),
        ({"limit": 101}, "limit"),
        ({"year_from": 2020, "year_to": 2010}, "query"),  # a check on the whole query
        ({"interval": "day"}, "interval"),
        ({"cursor": "%%%"}, "cursor"),
    ],
)
async def test_bad_search_parameters_are_422(
    search_client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await search_client.get("/v1/search/songs", params=params)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_suggest_completes_song_words_and_artists(
    search_client: httpx.AsyncClient, index_songs: IndexSongs, catalogue: list[dict[str, Any]]
) -> None:
    await index_songs(catalogue)

    by_start = (await search_client.get("/v1/search/suggest", params={"prefix": "upt"})).json()
    by_word = (await search_client.get("/v1/search/suggest", params={"prefix": "fun"})).json()
    artist = (await search_client.get("/v1/search/suggest", params={"prefix": "beyo"})).json()

    assert "Uptown Funk" in [s["title"] for s in by_start["songs"]]
    assert "Uptown Funk" in [s["title"] for s in by_word["songs"]]
    assert artist["artists"] == [{"id": str(catalogue[1]["artist"]["id"]), "name": "Beyoncé"}]
    assert (await search_client.get("/v1/search/suggest", params={"prefix": ""})).status_code == 422


async def test_elasticsearch_down_is_503_with_retry_after(
    search_settings: Settings, mongo_db: object, es_prefix: str
) -> None:
    """The app's ES client is swapped for one pointing at a port nothing listens on."""
    app = create_app(search_settings)
    dead = AsyncElasticsearch(f"http://127.0.0.1:{unused_port()}", max_retries=0)
    app.dependency_overrides[get_es] = lambda: dead
    try:
        async with running(app) as http:
            response = await http.get("/v1/search/songs", params={"q": "funk"})
            suggest = await http.get("/v1/search/suggest", params={"prefix": "f"})
            catalog = await http.get("/v1/songs")
    finally:
        await dead.close()

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"].endswith("/store-unavailable")
    assert suggest.status_code == 503
    assert catalog.status_code == 200
