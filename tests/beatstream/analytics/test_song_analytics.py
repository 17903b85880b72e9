"""Top artists, top songs and genre shares, each checked against Python over the same rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.beatstream.analytics.data import Row, get_json


def _views(row: Row, country: str | None) -> int:
    counts: dict[str, int] = row["views_per_country"]
    return counts.get(country, 0) if country else sum(counts.values())


def expected_top_artists(rows: list[Row], country: str | None, limit: int) -> list[dict[str, Any]]:
    sums: dict[str, int] = defaultdict(int)
    names: dict[str, str] = {}
    for row in rows:
        if _views(row, country) > 0:
            artist_id = str(row["artist"]["id"])
            sums[artist_id] += _views(row, country)
            names[artist_id] = row["artist"]["name"]
    ranked = sorted(sums.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"artist_id": a, "artist_name": names[a], "views": v} for a, v in ranked]


def _iso_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _latest_update(rows: list[Row]) -> datetime:
    return _iso_ms(max(row["updated_at"] for row in rows))


@pytest.mark.parametrize("country", ["IT", "US"])
@pytest.mark.parametrize("limit", [3, 100])
async def test_top_artists_are_the_python_sums_in_order(
    analytics_client: httpx.AsyncClient, indexed_songs: list[Row], country: str, limit: int
) -> None:
    expected = expected_top_artists(indexed_songs, country, limit)
    assert expected, "the data set must have views in the country"

    body = await get_json(
        analytics_client, "/v1/analytics/top-artists", country=country, limit=limit
    )

    assert body["items"] == expected
    assert len(body["items"]) == min(limit, len(expected_top_artists(indexed_songs, country, 999)))
    assert body["country"] == country
    assert body["limit"] == limit
    # One shard: the terms aggregation is exact, and the response says why (not a constant).
    assert body["exact"] is True
    assert body["error_bound"] == 0
    assert datetime.fromisoformat(body["as_of"]) == _latest_update(indexed_songs)


async def test_top_artists_without_country_rank_by_total_views(
    analytics_client: httpx.AsyncClient, indexed_songs: list[Row]
) -> None:
    body = await get_json(analytics_client, "/v1/analytics/top-artists")

    assert body["items"] == expected_top_artists(indexed_songs, None, 10)
    assert body["country"] is None


async def test_country_is_case_insensitive(
    analytics_client: httpx.AsyncClient, indexed_songs: list[Row]
) -> None:
    lower = await get_json(analytics_client, "/v1/analytics/top-artists", country="it")
    upper = await get_json(analytics_client, "/v1/analytics/top-artists", country="IT")

    assert lower == upper
    assert lower["country"] == "IT"


@pytest.mark.parametrize("country", ["IT", "GB"])
async def test_top_songs_are_ordered_by_views_then_id(
    analytics_client: httpx.AsyncClient, indexed_songs: list[Row], country: str
) -> None:
    ranked = sorted(
        (row for row in indexed_songs if _views(row, country) > 0),
        key=lambda row: (-_views(row, country), str(row["_id"])),
    )
    expected = [
        {
            "song_id": str(row["_id"]),
            "title": row["title"],
            "artist_name": row["artist"]["name"],
            "album_title": row["album"]["title"],
            "views": _views(row, country),
        }
        for row in ranked[:5]
    ]

    body = await get_json(analytics_client, "/v1/analytics/top-songs", country=country, limit=5)

    assert body["items"] == expected
    assert body["exact"] is True
    assert body["error_bound"] == 0
    assert datetime.fromisoformat(body["as_of"]) == _latest_update(indexed_songs)


@pytest.mark.parametrize("country", ["IT", None])
async def test_genre_shares_match_python_and_sum_to_one(
    analytics_client: httpx.AsyncClient, indexed_songs: list[Row], country: str | None
) -> None:
    views: dict[str, int] = defaultdict(int)
    for row in indexed_songs:
        if _views(row, country) > 0:
            views[row["genre"]] += _views(row, country)
    total = sum(views.values())
    params = {"country": country} if country else {}

    body = await get_json(analytics_client, "/v1/analytics/genres", **params)

    assert body["total_views"] == total
    assert body["other_views"] == 0
    assert {item["genre"]: item["views"] for item in body["items"]} == views
    for item in body["items"]:
        assert item["share"] == pytest.approx(views[item["genre"]] / total)
    assert sum(item["share"] for item in body["items"]) == pytest.approx(1.0)
    ordered = [item["views"] for item in body["items"]]
    assert ordered == sorted(ordered, reverse=True)
    assert body["exact"] is True
    assert body["error_bound"] == 0


async def test_an_empty_catalogue_answers_empty_not_an_error(
    analytics_client: httpx.AsyncClient,
) -> None:
    for path in ("/v1/analytics/top-artists", "/v1/analytics/top-songs"):
        body = await get_json(analytics_client, path, country="IT")
        assert body["items"] == []
        assert body["as_of"] is None
        assert body["exact"] is True

    genres = await get_json(analytics_client, "/v1/analytics/genres")
    assert genres["items"] == []
    assert genres["total_views"] == 0
