"""Plays over time: bucket counts against Python, empty periods zero-filled, no-index safe."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.beatstream.analytics.data import QUIET_DAYS, Row, get_json


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _month(moment: datetime) -> datetime:
    return _day(moment).replace(day=1)


def _counts(body: dict[str, object]) -> dict[datetime, int]:
    buckets = body["buckets"]
    assert isinstance(buckets, list)
    return {datetime.fromisoformat(b["start"]): b["plays"] for b in buckets}


async def test_daily_counts_match_python_with_empty_days_as_zero(
    analytics_client: httpx.AsyncClient, indexed_plays: list[Row]
) -> None:
    start, end = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)
    expected = Counter(_day(p["played_at"]) for p in indexed_plays if start <= p["played_at"] < end)

    body = await get_json(
        analytics_client,
        "/v1/analytics/plays",
        interval="day",
        to="2024-03-01T00:00:00Z",
        **{"from": "2024-02-01T00:00:00Z"},
    )

    counts = _counts(body)
    assert list(counts) == [start + timedelta(days=n) for n in range(29)]  # leap February
    assert counts == {day: expected.get(day, 0) for day in counts}
    for quiet in QUIET_DAYS:
        assert counts[datetime(quiet.year, quiet.month, quiet.day, tzinfo=UTC)] == 0
    assert body["total"] == sum(expected.values())
    assert body["exact"] is True
    assert body["error_bound"] == 0
    assert datetime.fromisoformat(body["from"]) == start
    assert datetime.fromisoformat(body["to"]) == end


async def test_monthly_counts_zero_fill_months_without_plays(
    analytics_client: httpx.AsyncClient, indexed_plays: list[Row]
) -> None:
    expected = Counter(_month(p["played_at"]) for p in indexed_plays)

    body = await get_json(
        analytics_client,
        "/v1/analytics/plays",
        interval="month",
        to="2024-06-01T00:00:00Z",
        **{"from": "2023-11-01T00:00:00Z"},
    )

    counts = _counts(body)
    months = [datetime(2023, 11, 1, tzinfo=UTC), datetime(2023, 12, 1, tzinfo=UTC)]
    months += [datetime(2024, m, 1, tzinfo=UTC) for m in range(1, 6)]
    assert list(counts) == months
    assert counts == {month: expected.get(month, 0) for month in months}
    assert counts[months[0]] == counts[months[1]] == counts[months[-1]] == 0
    assert body["total"] == len(indexed_plays)
    latest = max(p["played_at"] for p in indexed_plays)
    assert datetime.fromisoformat(body["as_of"]) == latest


async def test_weeks_start_on_monday_and_filters_combine(
    analytics_client: httpx.AsyncClient, indexed_plays: list[Row]
) -> None:
    song = indexed_plays[0]["song_id"]
    country = indexed_plays[0]["country"]
    start, end = datetime(2024, 1, 17, tzinfo=UTC), datetime(2024, 3, 21, tzinfo=UTC)
    chosen = [
        p
        for p in indexed_plays
        if p["song_id"] == song and p["country"] == country and start <= p["played_at"] < end
    ]
    expected = Counter(
        _day(p["played_at"]) - timedelta(days=p["played_at"].weekday()) for p in chosen
    )

    body = await get_json(
        analytics_client,
        "/v1/analytics/plays",
        interval="week",
        country=country.lower(),
        song=str(song),
        to=end.isoformat(),
        **{"from": start.isoformat()},
    )

    counts = _counts(body)
    first = next(iter(counts))
    assert first == datetime(2024, 1, 15, tzinfo=UTC)  # the Monday of the week of `from`
    assert all(week.weekday() == 0 for week in counts)
    assert counts == {week: expected.get(week, 0) for week in counts}
    assert body["total"] == len(chosen) > 0
    assert body["country"] == country
    assert body["song"] == str(song)


@pytest.mark.parametrize(("interval", "buckets"), [("day", 31), ("week", 5), ("month", 1)])
async def test_no_plays_index_yet_gives_empty_buckets(
    analytics_client: httpx.AsyncClient, interval: str, buckets: int
) -> None:
    body = await get_json(
        analytics_client,
        "/v1/analytics/plays",
        interval=interval,
        to="2024-02-01T00:00:00Z",
        **{"from": "2024-01-01T00:00:00Z"},
    )

    assert len(body["buckets"]) == buckets
    assert all(b["plays"] == 0 for b in body["buckets"])
    assert body["total"] == 0
    assert body["as_of"] is None
    assert body["exact"] is True


async def test_default_range_ends_now(analytics_client: httpx.AsyncClient) -> None:
    body = await get_json(analytics_client, "/v1/analytics/plays")

    end = datetime.fromisoformat(body["to"])
    assert abs(end - datetime.now(UTC)) < timedelta(minutes=5)
    assert end - datetime.fromisoformat(body["from"]) == timedelta(days=30)
    assert len(body["buckets"]) in (30, 31)
