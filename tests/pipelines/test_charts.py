"""Windowed charts equal a recount of `play_events` in MongoDB (plays, distinct listeners,
shared ranks on ties, movement); a frozen chart never changes, late plays included."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.cache.store import ResponseCache
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument, RedisClient
from pipelines.charts import build_charts
from pipelines.rollup import PlayRollup
from pipelines.sync import SongSync, SyncOptions
from pipelines.sync_plays import PlaySync
from tests.fixtures.catalog import Factory

FAST = SyncOptions(batch_size=50, settle_s=0.0)
WEEK = date(2026, 11, 16)  # a Monday; the previous week starts 2026-11-09
# Plays per song (this week, previous week) in IT: ties at 3 and at 2, a new entry,
# an entry that drops out, moves up, down and none.
IT_PLAYS = [(5, 1), (3, 3), (3, 0), (2, 2), (2, 4), (1, 2), (0, 3)]
DE_PLAYS = [(0, 0), (4, 0), (1, 1), (0, 0), (0, 0), (0, 0), (2, 0)]


def _event(listener: str, song: str, country: str, day: date, n: int) -> dict[str, Any]:
    return {
        "listener_id": listener,
        "song_id": song,
        "country": country,
        "ms_played": 30_000,
        "played_at": f"{day.isoformat()}T{10 + n % 12:02d}:00:00Z",
    }


async def _post(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    response = await client.post("/v1/plays/batch", json={"events": events})
    assert response.status_code == 201, response.text


async def _catalogue_and_plays(
    client: httpx.AsyncClient, make_song: Factory, make_artist: Factory, make_listener: Factory
) -> list[dict[str, Any]]:
    artists = [(await make_artist())["id"] for _ in range(3)]
    songs = [await make_song(artist_id=artists[i % 3]) for i in range(len(IT_PLAYS))]
    listeners = [(await make_listener())["id"] for _ in range(3)]
    events = []
    for i, song in enumerate(songs):
        for country, table in (("IT", IT_PLAYS), ("DE", DE_PLAYS)):
            now, before = table[i]
            for n in range(now):  # listeners repeat: distinct listeners < plays
                day = WEEK + timedelta(days=n % 7)
                events.append(_event(listeners[(i + n) % 2], song["id"], country, day, n))
            for n in range(before):
                day = WEEK - timedelta(days=7 - n % 7)
                events.append(_event(listeners[(i + n) % 3], song["id"], country, day, n))
    await _post(client, events)
    return songs


async def _sync(db: AsyncDatabase[MongoDocument], es: AsyncElasticsearch, s: Settings) -> None:
    await PlaySync(db, es, s.elasticsearch, options=FAST).catch_up()
    await PlayRollup(db, es, s.elasticsearch, options=FAST).catch_up()
    await SongSync(db, es, s.elasticsearch, options=FAST).catch_up()
    await es.indices.refresh(index=f"{s.elasticsearch.index_prefix}-*")


def _ranked(groups: dict[str, dict[str, Any]]) -> list[tuple[str, int, int, int]]:
    """(key, rank, plays, listeners), competition ranks: ordered by plays desc, key asc."""
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1]["plays"], kv[0]))
    out: list[tuple[str, int, int, int]] = []
    for position, (key, g) in enumerate(ordered):
        tied = position and out[-1][2] == g["plays"]
        out.append((key, out[-1][1] if tied else position + 1, g["plays"], len(g["listeners"])))
    return out


async def _recount(
    db: AsyncDatabase[MongoDocument], key: str, start: datetime, end: datetime, country: str | None
) -> list[tuple[str, int, int, int]]:
    """The chart recomputed from MongoDB: plays and distinct listeners per song or artist."""
    artists = {s["_id"]: str(s["artist"]["id"]) async for s in db.songs.find({})}
    query: dict[str, Any] = {"played_at": {"$gte": start, "$lt": end}}
    if country:
        query["country"] = country
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: {"plays": 0, "listeners": set()})
    async for play in db.play_events.find(query):
        name = str(play["song_id"]) if key == "song_id" else artists[play["song_id"]]
        groups[name]["plays"] += 1
        groups[name]["listeners"].add(play["listener_id"])
    return _ranked(groups)


def _expected_movement(rank: int, previous: dict[str, int], key: str) -> dict[str, Any]:
    if key not in previous:
        return {"kind": "new", "by": 0, "previous_rank": None}
    moved = previous[key] - rank
    kind = "up" if moved > 0 else "down" if moved < 0 else "same"
    return {"kind": kind, "by": abs(moved), "previous_rank": previous[key]}


@pytest.mark.parametrize("country", ["IT", "DE", None])
@pytest.mark.parametrize("kind", ["songs", "artists"])
async def test_a_weekly_chart_equals_a_recount_of_play_events(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_artist: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    country: str | None,
    kind: str,
) -> None:
    await _catalogue_and_plays(search_client, make_song, make_artist, make_listener)
    await _sync(mongo_db, es_client, search_settings)
    start = datetime(WEEK.year, WEEK.month, WEEK.day, tzinfo=UTC)
    key = "song_id" if kind == "songs" else "artist_id"
    now = await _recount(mongo_db, key, start, start + timedelta(weeks=1), country)
    before = await _recount(mongo_db, key, start - timedelta(weeks=1), start, country)
    previous = {k: rank for k, rank, _, _ in before}

    params: dict[str, Any] = {"window": "week", "date": "2026-11-19", "limit": 100}
    if country:
        params["country"] = country
    response = await search_client.get(f"/v1/analytics/top-{kind}", params=params)
    assert response.status_code == 200, response.text
    body = response.json()

    assert (body["start"], body["end"]) == ("2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z")
    assert (body["exact"], body["error_bound"], body["frozen"]) == (True, 0, False)
    got = [(i[key], i["rank"], i["plays"], i["listeners"], i["movement"]) for i in body["items"]]
    assert got == [(k, r, p, n, _expected_movement(r, previous, k)) for k, r, p, n in now]
    if kind == "songs" and country == "IT":  # ties, and every kind of movement
        assert len({r for _, r, _, _ in now}) < len(now)
        kinds = {m["kind"] for *_, m in got}
        assert kinds == {"new", "up", "down", "same"}
    # `limit` takes the head of the same chart.
    top2 = await search_client.get(f"/v1/analytics/top-{kind}", params={**params, "limit": 2})
    assert top2.json()["items"] == body["items"][:2]


async def test_a_frozen_chart_does_not_change_when_late_plays_arrive(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_artist: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
) -> None:
    songs = await _catalogue_and_plays(search_client, make_song, make_artist, make_listener)
    await _sync(mongo_db, es_client, search_settings)
    params = {"window": "week", "date": WEEK.isoformat(), "country": "IT", "limit": 100}
    live = (await search_client.get("/v1/analytics/top-songs", params=params)).json()

    report = await build_charts(
        mongo_db, es_client, search_settings.elasticsearch, WEEK, windows=("week",)
    )
    assert "songs:week:2026-11-16:IT" in report.stored
    frozen = await search_client.get("/v1/analytics/top-songs", params=params)
    assert frozen.status_code == 200
    assert frozen.headers["X-Cache"] == "frozen"
    assert "immutable" in frozen.headers["Cache-Control"]
    assert not frozen.headers["ETag"].startswith("W/")
    assert frozen.json() == {**live, "frozen": True}

    # Late plays for the closed week: the counters move, the frozen chart does not.
    listener = (await make_listener())["id"]
    late = [_event(listener, songs[-1]["id"], "IT", WEEK, n) for n in range(9)]
    await _post(search_client, late)
    await _sync(mongo_db, es_client, search_settings)
    again = await search_client.get("/v1/analytics/top-songs", params=params)
    assert again.content == frozen.content
    assert again.headers["ETag"] == frozen.headers["ETag"]
    unchanged = await search_client.get(
        "/v1/analytics/top-songs", params=params, headers={"If-None-Match": frozen.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    rebuilt = await build_charts(
        mongo_db, es_client, search_settings.elasticsearch, WEEK, windows=("week",)
    )
    assert rebuilt.stored == []
    assert "songs:week:2026-11-16:IT" in rebuilt.kept
    all_time = (
        await search_client.get("/v1/analytics/top-songs", params={"country": "IT", "limit": 100})
    ).json()
    views = {i["song_id"]: i["views"] for i in all_time["items"]}
    seeded = songs[-1]["views_per_country"].get("IT", 0)
    assert views[songs[-1]["id"]] == seeded + sum(IT_PLAYS[-1]) + len(late)


async def test_an_open_period_is_not_frozen_and_follows_the_play_sync(
    search_client: httpx.AsyncClient,
    make_song: Factory,
    make_listener: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    redis_client: RedisClient,
    search_settings: Settings,
) -> None:
    song, listener = (await make_song())["id"], (await make_listener())["id"]
    await _sync(mongo_db, es_client, search_settings)
    today = datetime.now(UTC).date()
    report = await build_charts(mongo_db, es_client, search_settings.elasticsearch, today)
    assert report.stored == []
    assert set(report.skipped) == {"day", "week", "month"}

    params = {"window": "day"}
    first = await search_client.get("/v1/analytics/top-songs", params=params)
    assert first.json()["items"] == []
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    await _post(search_client, [{**_event(listener, song, "IT", today, 0), "played_at": now}])
    cache = ResponseCache(redis_client, search_settings.redis.key_prefix)
    await PlaySync(
        mongo_db, es_client, search_settings.elasticsearch, cache=cache, options=FAST
    ).catch_up()
    await es_client.indices.refresh(index=f"{search_settings.elasticsearch.index_prefix}-*")
    after = await search_client.get("/v1/analytics/top-songs", params=params)
    assert after.headers["X-Cache"] == "miss"
    assert [(i["song_id"], i["plays"]) for i in after.json()["items"]] == [(song, 1)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date": "2026-11-16"}, "date"),
        ({"window": "week", "date": "2026-13-01"}, "date"),
        ({"window": "week", "date": "16/11/2026"}, "date"),
        ({"window": "year"}, "window"),
    ],
)
async def test_bad_windows_and_dates_are_422_naming_the_field(
    search_client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    for path in ("/v1/analytics/top-songs", "/v1/analytics/top-artists"):
        response = await search_client.get(path, params=params)
        assert response.status_code == 422, response.text
        assert field in response.text
