"""Which index serves each catalogue query: explained where the server can explain."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from beatstream.stores.capabilities import Capability
from tests.fixtures.catalog import Factory


async def test_explain_names_the_year_index_or_says_the_server_cannot(
    client: httpx.AsyncClient, make_song: Factory, mongo_capabilities: dict[str, Capability]
) -> None:
    """Both outcomes are asserted: a server without `explain` must say so with a 501."""
    await make_song(album={"title": "Uptown Special", "release_year": 2014})

    response = await client.get("/v1/admin/explain/songs/by-year/2014")

    if mongo_capabilities["explain_index"].available:
        assert response.status_code == 200
        plan = response.json()
        assert "album_release_year_desc" in plan["indexes"] or "year_id" in plan["indexes"]
        assert plan["collection_scan"] is False
    else:
        assert response.status_code == 501
        assert response.json()["type"].endswith("/unsupported-by-server")


@pytest.mark.requires_mongo("explain_index")
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "title"},
        {"sort": "-release_year"},
        {"genre": "funk"},
        {"genre": "funk", "sort": "-release_year"},
        {"year_from": 2000, "year_to": 2010},
        {"country": "IT"},
        {"artist_id": "6650f1c2a1b2c3d4e5f60718"},
    ],
)
async def test_no_song_list_filter_scans_the_collection(
    client: httpx.AsyncClient, make_song: Factory, params: dict[str, Any]
) -> None:
    for _ in range(5):
        await make_song()

    response = await client.get("/v1/admin/explain/songs", params=params)

    assert response.status_code == 200
    assert response.json()["collection_scan"] is False, response.json()["stages"]


@pytest.mark.requires_mongo("explain_index", "text_search")
async def test_artist_search_uses_the_text_index(
    client: httpx.AsyncClient, make_song: Factory
) -> None:
    await make_song()

    response = await client.get("/v1/admin/explain/songs/by-artist", params={"q": "mars"})

    assert response.status_code == 200
    assert "TEXT_MATCH" in response.json()["stages"] or "TEXT" in response.json()["stages"]


async def test_explain_validates_like_the_endpoint(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/admin/explain/songs", params={"limit": 0})).status_code == 422
    assert (await client.get("/v1/admin/explain/songs/by-year/1")).status_code == 422
