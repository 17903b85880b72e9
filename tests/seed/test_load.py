"""Loading: idempotent upserts, reset, indexes, failures by line, and the API reads it."""

from __future__ import annotations

import httpx
import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.stores.clients import MongoDocument
from seed import generate
from seed.load import load
from tests.seed.common import SEEDED, SMALL, snapshot


async def test_load_writes_every_document_in_batches(
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    seen: list[tuple[str, int, int | None]] = []

    report = await load(
        mongo_db,
        SMALL,
        42,
        derived=None,
        batch_size=7,
        progress=lambda c, d, t: seen.append((c, d, t)),
    )

    assert report.ok
    expected = {"artists": 6, "songs": 40, "listeners": 25, "play_events": 300}
    assert report.written == expected
    assert report.inserted == expected
    for name, count in expected.items():
        assert await mongo_db[name].count_documents({}) == count
    assert await mongo_db.songs.find_one({"_id": generate.song(42, 0, SMALL)["_id"]}) == (
        generate.song(42, 0, SMALL)
    )
    plays_progress = [done for c, done, _ in seen if c == "play_events"]
    assert (plays_progress[0], plays_progress[-1]) == (0, 300)
    assert plays_progress == sorted(plays_progress)
    assert len(plays_progress) > 40  # one report per batch of 7


async def test_loading_twice_duplicates_nothing(mongo_db: AsyncDatabase[MongoDocument]) -> None:
    await load(mongo_db, SMALL, 42, derived=None)
    first = await snapshot(mongo_db)

    again = await load(mongo_db, SMALL, 42, derived=None, batch_size=50)

    assert again.ok
    assert sum(again.inserted.values()) == 0  # every document replaced itself
    assert sum(again.written.values()) == sum(map(len, first.values()))
    assert await snapshot(mongo_db) == first


async def test_a_second_seed_adds_alongside_the_first(
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    """Different keys and emails: two seeds coexist in one database (no unique clash)."""
    await load(mongo_db, SMALL, 1, derived=None)
    report = await load(mongo_db, SMALL, 2, derived=None)

    assert report.ok
    assert await mongo_db.listeners.count_documents({}) == 2 * SMALL.listeners


async def test_reset_drops_only_the_seeded_collections(
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    await load(mongo_db, SMALL, 1, derived=None)
    await mongo_db.songs.insert_one({"_id": ObjectId(), "title": "left over"})
    await mongo_db.playlists.insert_one({"_id": ObjectId(), "name": "not seeded"})

    report = await load(mongo_db, SMALL, 2, derived=None, reset=True)

    assert report.ok
    assert await mongo_db.songs.count_documents({}) == SMALL.songs
    assert await mongo_db.songs.count_documents({"title": "left over"}) == 0
    first_seed_id = generate.listener(1, 0)["_id"]
    assert await mongo_db.listeners.count_documents({"_id": first_seed_id}) == 0
    assert await mongo_db.playlists.count_documents({}) == 1
    assert report.inserted == report.written  # all new after the drop


async def test_indexes_exist_and_guard_the_load(mongo_db: AsyncDatabase[MongoDocument]) -> None:
    """A listener already holding a seeded email: that one document fails, named by its
    position; every other document of its batch still loads."""
    taken = generate.listener(42, 2)["email"]
    await load(mongo_db, SMALL, 42, derived=None)
    indexes = await mongo_db.listeners.index_information()
    assert indexes["email_unique"]["unique"] is True
    await mongo_db.listeners.delete_one({"email": taken})
    await mongo_db.listeners.insert_one({"_id": ObjectId(), "email": taken})

    report = await load(mongo_db, SMALL, 42, derived=None)

    assert report.failed == 1
    [failure] = report.failures
    assert (failure.source, failure.line) == ("listeners", 3)
    assert "duplicate key" in failure.reason.lower() or "E11000" in failure.reason
    assert report.written["listeners"] == SMALL.listeners - 1
    assert await mongo_db.listeners.count_documents({}) == SMALL.listeners


async def test_bad_batch_size_is_refused(mongo_db: AsyncDatabase[MongoDocument]) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        await load(mongo_db, SMALL, 1, derived=None, batch_size=0)


async def test_the_api_reads_seeded_documents(
    client: httpx.AsyncClient, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    """The `client` app reads the per-test database, so what the seed loads there is
    what the API serves: through its Beanie reads and its raw-row list pages."""
    await load(mongo_db, SMALL, 42, derived=None)
    song = generate.song(42, 3, SMALL)
    listener = generate.listener(42, 4)
    artist_id = str(song["artist"]["id"])

    got = await client.get(f"/v1/songs/{song['_id']}")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["title"] == song["title"]
    assert body["artist"] == {"id": artist_id, "name": song["artist"]["name"]}

    assert (await client.get(f"/v1/artists/{artist_id}")).status_code == 200
    got = await client.get(f"/v1/listeners/{listener['_id']}")
    assert got.status_code == 200, got.text
    assert got.json()["email"] == listener["email"]

    plays = [p for p in generate.plays(42, SMALL) if p["song_id"] == song["_id"]]
    got = await client.get(f"/v1/songs/{song['_id']}/plays", params={"limit": 100})
    assert got.status_code == 200, got.text
    assert len(got.json()["items"]) == len(plays)

    listed = await client.get("/v1/songs", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == SMALL.songs


def test_seeded_collections_are_the_models_collections() -> None:
    assert SEEDED == ("artists", "songs", "listeners", "play_events")


async def test_listeners_get_their_pseudonymous_key_as_they_are_written(
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    pseudonyms = Pseudonyms(b"k" * 32)

    report = await load(mongo_db, SMALL, 42, derived=None, pseudonyms=pseudonyms)

    assert report.ok
    async for listener in mongo_db.listeners.find({}, {"listener_key": 1}):
        assert listener["listener_key"] == pseudonyms.listener_key(listener["_id"])
    assert await mongo_db.songs.count_documents({"listener_key": {"$exists": True}}) == 0
