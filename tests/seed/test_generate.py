"""Generation: deterministic, keyed, consistent, skewed, valid for the models, streaming."""

from __future__ import annotations

import collections
import hashlib
import os
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime

import pytest
from beanie import Document, init_beanie
from beanie.odm.utils.dump import get_dict
from bson import json_util
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.catalog.schemas import ArtistCreate
from beatstream.documents import DOCUMENT_MODELS
from beatstream.listeners.documents import PlayEvent
from beatstream.stores.clients import MongoDocument
from seed import generate
from seed.generate import KINDS, PLAYS_SINCE, PLAYS_UNTIL, Counts
from seed.load import MODELS
from tests.seed.common import SMALL

DIGEST_SCRIPT = """
import hashlib, sys
from bson import json_util
from seed import generate
from seed.generate import KINDS, Counts
counts = Counts(artists=6, songs=40, listeners=25, plays=300)
h = hashlib.sha256()
for kind in KINDS:
    for doc in generate.stream(kind, int(sys.argv[1]), counts):
        h.update(json_util.dumps(doc).encode())
print(h.hexdigest())
"""


def digest(seed: int, counts: Counts = SMALL) -> str:
    h = hashlib.sha256()
    for kind in KINDS:
        for doc in generate.stream(kind, seed, counts):
            h.update(json_util.dumps(doc).encode())
    return h.hexdigest()


def ids(kind: str, seed: int, counts: Counts = SMALL) -> list[object]:
    return [doc["_id"] for doc in generate.stream(kind, seed, counts)]


def test_the_same_seed_gives_the_same_data() -> None:
    assert digest(42) == digest(42)
    assert list(generate.songs(42, SMALL)) == list(generate.songs(42, SMALL))


def test_the_same_seed_gives_the_same_data_in_another_process() -> None:
    """Nothing depends on per-process state such as `hash()` salting."""
    result = subprocess.run(
        [sys.executable, "-c", DIGEST_SCRIPT, "42"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == digest(42)


def test_a_different_seed_gives_different_data_and_keys() -> None:
    assert digest(42) != digest(43)
    for kind in KINDS:
        assert not set(ids(kind, 42)) & set(ids(kind, 43)), kind


def test_document_n_does_not_depend_on_how_many_are_generated() -> None:
    more = Counts(artists=6, songs=80, listeners=50, plays=600)
    assert list(generate.artists(7, SMALL)) == list(generate.artists(7, more))[: SMALL.artists]
    assert list(generate.songs(7, SMALL)) == list(generate.songs(7, more))[: SMALL.songs]
    assert list(generate.listeners(7, SMALL)) == list(generate.listeners(7, more))[:25]


def test_keys_and_emails_are_unique() -> None:
    counts = Counts(artists=10, songs=10, listeners=5_000, plays=10)
    listeners = list(generate.listeners(1, counts))
    assert len({doc["_id"] for doc in listeners}) == len(listeners)
    assert len({doc["email"] for doc in listeners}) == len(listeners)
    assert all(doc["email"] == doc["email"].lower() for doc in listeners)
    plays = ids("plays", 1, Counts(artists=2, songs=50, listeners=50, plays=20_000))
    assert len(set(plays)) == len(plays)


def test_references_point_at_generated_documents() -> None:
    artists = {doc["_id"]: doc for doc in generate.artists(5, SMALL)}
    songs = {doc["_id"]: doc for doc in generate.songs(5, SMALL)}
    listeners = {doc["_id"]: doc for doc in generate.listeners(5, SMALL)}
    for song in songs.values():
        artist = artists[song["artist"]["id"]]
        assert song["artist"]["name"] == artist["name"]  # denormalised copy
        assert song["genre"] in artist["genres"]
    for play in generate.plays(5, SMALL):
        song, listener = songs[play["song_id"]], listeners[play["listener_id"]]
        assert PLAYS_SINCE <= play["played_at"] < PLAYS_UNTIL
        assert play["played_at"] >= max(song["created_at"], listener["created_at"])


def test_ids_carry_the_creation_or_play_time() -> None:
    for kind in ("artists", "songs", "listeners"):
        for doc in generate.stream(kind, 3, SMALL):
            assert doc["_id"].generation_time == doc["created_at"] == doc["updated_at"]
            assert doc["version"] == 1
    for play in generate.plays(3, SMALL):
        assert play["_id"].generation_time == play["played_at"]


def test_a_custom_play_range_is_honoured() -> None:
    since, until = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 8, tzinfo=UTC)
    played = [p["played_at"] for p in generate.plays(9, SMALL, since, until)]
    assert all(since <= at < until for at in played)
    with pytest.raises(ValueError, match="end after it starts"):
        generate.plays(9, SMALL, until, since)


def test_popular_songs_get_most_plays() -> None:
    counts = Counts(artists=20, songs=1_000, listeners=500, plays=20_000)
    per_song = collections.Counter(p["song_id"] for p in generate.plays(11, counts))
    top_1_percent = sum(n for _, n in per_song.most_common(counts.songs // 100))
    assert top_1_percent > 0.15 * counts.plays  # uniform would be 1%
    assert len(per_song) > 0.5 * counts.songs  # yet the long tail is played too


def test_listeners_have_mixed_consent_and_subscription_histories() -> None:
    listeners = list(generate.listeners(2, Counts(artists=1, songs=1, listeners=300, plays=0)))
    consent = sum(doc["consent_to_share_data"] for doc in listeners)
    assert 0.4 * len(listeners) < consent < 0.8 * len(listeners)
    histories = [doc["actions"] for doc in listeners]
    assert any(len(h) >= 3 for h in histories)
    assert any(not h for h in histories)
    assert any(a["action"] == "unsubscription" for h in histories for a in h)


def test_views_per_country_are_long_tailed() -> None:
    counts = Counts(artists=10, songs=2_000, listeners=1, plays=0)
    views = sorted(sum(s["views_per_country"].values()) for s in generate.songs(4, counts))
    assert views[-1] > 20 * views[len(views) // 2]


@pytest.mark.parametrize(
    "counts",
    [
        {"artists": -1},
        {"artists": 0, "songs": 1},
        {"songs": 0, "plays": 1},
        {"listeners": 0, "plays": 1},
    ],
)
def test_impossible_counts_are_refused(counts: dict[str, int]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        Counts(**{"artists": 1, "songs": 1, "listeners": 1, "plays": 1, **counts})


async def test_documents_are_exactly_what_the_beanie_models_store(
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    """Validated by each model, and the model's own encoding equals the generated dict:
    same field names, same BSON types (ObjectId, aware datetime, Decimal128)."""
    await init_beanie(database=mongo_db, document_models=DOCUMENT_MODELS)
    for kind in KINDS:
        model: type[Document] = MODELS[kind]
        for doc in generate.stream(kind, 8, SMALL):
            assert get_dict(model.model_validate(doc), to_db=True) == doc, kind


def test_artists_are_valid_api_input_too() -> None:
    for doc in generate.artists(8, SMALL):
        ArtistCreate(name=doc["name"], country=doc["country"], genres=doc["genres"])


def test_generation_streams_in_constant_memory() -> None:
    """100k plays never exist at once: peak traced memory stays small (a list of them
    would take well over 100 MB)."""
    counts = Counts(artists=200, songs=20_000, listeners=10_000, plays=100_000)
    tracemalloc.start()
    try:
        generated = sum(1 for _ in generate.plays(42, counts))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert generated == counts.plays
    assert peak < 20 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


def test_play_events_name_only_play_event_fields() -> None:
    fields = {"_id", *PlayEvent.model_fields} - {"id", "revision_id"}
    for play in generate.plays(1, SMALL):
        assert set(play) == fields
