from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.app import create_app
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from seed.builders import artist_payload, listener_payload, play_payload, song_payload
from tests.fixtures.app import running
from tests.fixtures.catalog import Factory

MISSING_ID = "6650f1c2a1b2c3d4e5f60718"


@pytest.fixture
async def refs(make_listener: Factory, make_song: Factory) -> tuple[list[str], list[str]]:
    """Two listeners and two songs, by id."""
    listeners = [(await make_listener())["id"] for _ in range(2)]
    songs = [(await make_song())["id"] for _ in range(2)]
    return listeners, songs


def _events(rng: random.Random, refs: tuple[list[str], list[str]], n: int) -> list[dict[str, Any]]:
    listeners, songs = refs
    return [play_payload(rng, rng.choice(listeners), rng.choice(songs)) for _ in range(n)]


# One play


async def test_record_play_stores_it_in_utc(
    client: httpx.AsyncClient, rng: Any, refs: Any, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    body = {
        **_events(rng, refs, 1)[0],
        "played_at": "2025-06-01T12:00:00.123456+02:00",
        "country": "it",
    }

    response = await client.post("/v1/plays", json=body)

    assert response.status_code == 201, response.text
    play = response.json()
    assert play["played_at"] == "2025-06-01T10:00:00.123000Z"
    assert play["country"] == "IT"
    assert {k: play[k] for k in ("listener_id", "song_id", "ms_played")} == {
        k: body[k] for k in ("listener_id", "song_id", "ms_played")
    }
    stored = await mongo_db.play_events.find_one({"_id": ObjectId(play["id"])})
    assert stored is not None
    assert stored["listener_id"] == ObjectId(body["listener_id"])
    assert stored["played_at"] == datetime(2025, 6, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert "version" not in stored


async def test_played_at_defaults_to_now(client: httpx.AsyncClient, rng: Any, refs: Any) -> None:
    body = _events(rng, refs, 1)[0]
    del body["played_at"]
    before = datetime.now(UTC) - timedelta(seconds=1)

    response = await client.post("/v1/plays", json=body)

    assert response.status_code == 201
    assert before <= datetime.fromisoformat(response.json()["played_at"]) <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("which", "fields"),
    [
        ("listener", ["listener_id"]),
        ("song", ["song_id"]),
        ("both", ["listener_id", "song_id"]),
    ],
)
async def test_play_with_unknown_references_is_422_naming_them(
    client: httpx.AsyncClient,
    rng: Any,
    refs: Any,
    mongo_db: AsyncDatabase[MongoDocument],
    which: str,
    fields: list[str],
) -> None:
    body = _events(rng, refs, 1)[0]
    if which in {"listener", "both"}:
        body["listener_id"] = MISSING_ID
    if which in {"song", "both"}:
        body["song_id"] = MISSING_ID

    response = await client.post("/v1/plays", json=body)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert await mongo_db.play_events.count_documents({}) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ms_played": -1}, "ms_played"),
        ({"ms_played": 24 * 3600 * 1000 + 1}, "ms_played"),
        ({"ms_played": "lots"}, "ms_played"),
        ({"played_at": "2999-01-01T00:00:00Z"}, "played_at"),
        ({"played_at": "2025-01-01T00:00:00"}, "played_at"),
        ({"played_at": "1999-12-31T23:59:59Z"}, "played_at"),
        ({"country": "XX"}, "country"),
        ({"listener_id": "not-an-id"}, "listener_id"),
        ({"song_id": {"$ne": None}}, "song_id.$ne"),
        ({"owner": "me"}, "owner"),
        ({"id": MISSING_ID}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
async def test_bad_plays_are_422_naming_the_field_and_write_nothing(
    client: httpx.AsyncClient,
    rng: Any,
    refs: Any,
    mongo_db: AsyncDatabase[MongoDocument],
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**_events(rng, refs, 1)[0], **change}

    response = await client.post("/v1/plays", json=body)

    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.text
    assert await mongo_db.play_events.count_documents({}) == 0


async def test_a_play_a_little_ahead_of_the_server_clock_is_accepted(
    client: httpx.AsyncClient, rng: Any, refs: Any
) -> None:
    ahead = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    body = {**_events(rng, refs, 1)[0], "played_at": ahead}
    assert (await client.post("/v1/plays", json=body)).status_code == 201


# Batches


async def test_batch_of_500_is_stored(
    client: httpx.AsyncClient, rng: Any, refs: Any, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    response = await client.post("/v1/plays/batch", json={"events": _events(rng, refs, 500)})

    assert response.status_code == 201, response.text
    assert response.json() == {"inserted": 500}
    assert await mongo_db.play_events.count_documents({}) == 500


@pytest.mark.parametrize("size", [0, 501])
async def test_batch_size_outside_1_to_500_is_422(
    client: httpx.AsyncClient,
    rng: Any,
    refs: Any,
    mongo_db: AsyncDatabase[MongoDocument],
    size: int,
) -> None:
    response = await client.post("/v1/plays/batch", json={"events": _events(rng, refs, size)})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["events"]
    assert await mongo_db.play_events.count_documents({}) == 0


async def test_batch_with_one_unknown_song_is_422_naming_its_index_and_stores_nothing(
    client: httpx.AsyncClient, rng: Any, refs: Any, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    events = _events(rng, refs, 10)
    events[3]["song_id"] = MISSING_ID

    response = await client.post("/v1/plays/batch", json={"events": events})

    assert response.status_code == 422
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["events[3].song_id"]
    assert MISSING_ID in problem["errors"][0]["message"]
    assert await mongo_db.play_events.count_documents({}) == 0


async def test_batch_names_every_unknown_reference(
    client: httpx.AsyncClient, rng: Any, refs: Any, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    events = _events(rng, refs, 6)
    events[1]["listener_id"] = MISSING_ID
    events[4]["song_id"] = str(ObjectId())
    events[5]["listener_id"] = MISSING_ID

    response = await client.post("/v1/plays/batch", json={"events": events})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "events[1].listener_id",
        "events[4].song_id",
        "events[5].listener_id",
    ]
    assert await mongo_db.play_events.count_documents({}) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ms_played": -5}, "events[2].ms_played"),
        ({"played_at": "2999-01-01T00:00:00Z"}, "events[2].played_at"),
        ({"owner": "me"}, "events[2].owner"),
        ({"song_id": {"$in": []}}, "events[2].song_id.$in"),
    ],
)
async def test_batch_with_one_invalid_event_is_422_naming_it_and_stores_nothing(
    client: httpx.AsyncClient,
    rng: Any,
    refs: Any,
    mongo_db: AsyncDatabase[MongoDocument],
    change: dict[str, Any],
    field: str,
) -> None:
    events = _events(rng, refs, 5)
    events[2].update(change)

    response = await client.post("/v1/plays/batch", json={"events": events})

    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]], response.text
    assert await mongo_db.play_events.count_documents({}) == 0


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        self.commands.append((event.command_name, target if isinstance(target, str) else ""))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


async def test_batch_is_one_query_per_collection_and_one_insert(
    settings: Settings, mongo_db: object, rng: Any
) -> None:
    """Counted by PyMongo's command monitoring on the app's own client: the number of
    round trips does not grow with the number of events."""
    log = CommandLog()
    async with running(create_app(settings, mongo_listeners=[log])) as http:
        artist = (await http.post("/v1/artists", json=artist_payload(rng))).json()
        songs = [
            (await http.post("/v1/songs", json=song_payload(rng, artist["id"]))).json()["id"]
            for _ in range(5)
        ]
        listeners = [
            (await http.post("/v1/listeners", json=listener_payload(rng))).json()["id"]
            for _ in range(5)
        ]
        events = _events(rng, (listeners, songs), 200)
        log.commands.clear()

        response = await http.post("/v1/plays/batch", json={"events": events})

    assert response.status_code == 201
    assert sorted(log.commands) == [
        ("find", "listeners"),
        ("find", "songs"),
        ("insert", "play_events"),
    ]


# Reading plays


async def _plays_at(
    make_play: Factory, listener_id: str, song_id: str, stamps: list[str]
) -> list[str]:
    return [(await make_play(listener_id, song_id, played_at=stamp))["id"] for stamp in stamps]


async def test_listener_plays_are_paged_newest_first(
    client: httpx.AsyncClient, make_listener: Factory, make_song: Factory, make_play: Factory
) -> None:
    listener, other = await make_listener(), await make_listener()
    song = await make_song()
    stamps = [
        "2025-01-01T00:00:00Z",
        "2025-01-03T00:00:00Z",
        "2025-01-02T00:00:00Z",
        "2025-01-02T00:00:00Z",  # a tie, broken by id
        "2025-01-05T00:00:00Z",
    ]
    ids = await _plays_at(make_play, listener["id"], song["id"], stamps)
    await make_play(other["id"], song["id"])
    expected = [ids[4], ids[1], ids[3], ids[2], ids[0]]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"/v1/listeners/{listener['id']}/plays", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [p["id"] for p in page["items"]]
        assert all(p["listener_id"] == listener["id"] for p in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == expected
    assert pages == 3


async def test_song_plays_are_paged_newest_first(
    client: httpx.AsyncClient, make_listener: Factory, make_song: Factory, make_play: Factory
) -> None:
    song, other_song = await make_song(), await make_song()
    listener = await make_listener()
    stamps = ["2024-05-01T00:00:00Z", "2024-06-01T00:00:00Z", "2024-04-01T00:00:00Z"]
    ids = await _plays_at(make_play, listener["id"], song["id"], stamps)
    await make_play(listener["id"], other_song["id"])
    path = f"/v1/songs/{song['id']}/plays"

    first = (await client.get(path, params={"limit": 2})).json()
    second = (await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]})).json()

    assert [p["id"] for p in first["items"]] == [ids[1], ids[0]]
    assert [p["id"] for p in second["items"]] == [ids[2]]
    assert second["next_cursor"] is None


async def test_song_plays_of_a_malformed_or_unknown_song(client: httpx.AsyncClient) -> None:
    malformed = await client.get("/v1/songs/not-an-id/plays")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "song_id"
    assert (await client.get(f"/v1/songs/{MISSING_ID}/plays")).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"owner": "me"}, "owner"),
        ({"$where": "1"}, "$where"),
    ],
)
async def test_bad_page_queries_are_422(
    client: httpx.AsyncClient, make_listener: Factory, params: dict[str, Any], field: str
) -> None:
    listener = await make_listener()
    response = await client.get(f"/v1/listeners/{listener['id']}/plays", params=params)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
