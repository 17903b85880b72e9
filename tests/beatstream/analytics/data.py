"""A known small catalogue and play log for the analytics tests, indexed straight into ES.

Rows are shaped as MongoDB stores them and go through the same transformation the
sync uses (`song_document`, `play_document`), so the tests check the queries against
the real mappings. Every expected number is recomputed in Python from these rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_bulk

from beatstream.search.indices import SONGS, play_document, plays_index, song_document
from seed.builders import COUNTRIES, artist_payload, song_payload

Row = dict[str, Any]

# Plays fall between these instants, never on the quiet days (so empty buckets exist).
PLAYS_START = datetime(2024, 1, 15, tzinfo=UTC)
PLAYS_END = datetime(2024, 3, 21, tzinfo=UTC)
QUIET_DAYS = {datetime(2024, 2, d, tzinfo=UTC).date() for d in (10, 11, 12)}
UPDATED_BASE = datetime(2026, 1, 1, tzinfo=UTC)


def build_songs(rng: random.Random, artists: int = 8, songs: int = 60) -> list[Row]:
    people = [{"id": ObjectId(), "name": artist_payload(rng)["name"]} for _ in range(artists)]
    rows = []
    for index in range(songs):
        artist = rng.choice(people)
        payload = song_payload(rng, str(artist["id"]))
        payload.pop("artist_id")
        rows.append(
            {
                "_id": ObjectId(),
                **payload,
                "artist": artist,
                "created_at": UPDATED_BASE,
                # Distinct whole seconds, so `as_of` is checkable to the millisecond.
                "updated_at": UPDATED_BASE + timedelta(minutes=index),
            }
        )
    return rows


def build_plays(rng: random.Random, songs: list[Row], count: int = 400) -> list[Row]:
    span = int((PLAYS_END - PLAYS_START).total_seconds())
    plays: list[Row] = []
    while len(plays) < count:
        played_at = PLAYS_START + timedelta(seconds=rng.randrange(span))
        if played_at.date() in QUIET_DAYS:
            continue
        plays.append(
            {
                "_id": ObjectId(),
                "listener_id": ObjectId(),
                "song_id": rng.choice(songs[:10])["_id"],
                "country": rng.choice(COUNTRIES[:4]),
                "played_at": played_at,
                "ms_played": rng.randint(0, 300_000),
            }
        )
    return plays


async def index_songs(es: AsyncElasticsearch, prefix: str, rows: list[Row]) -> None:
    actions = (
        {"_index": SONGS.alias(prefix), "_id": str(row["_id"]), "_source": song_document(row)}
        for row in rows
    )
    indexed, errors = await async_bulk(es, actions, refresh=True)
    assert indexed == len(rows), errors


async def index_plays(
    es: AsyncElasticsearch, prefix: str, plays: list[Row], songs: list[Row]
) -> None:
    by_id = {row["_id"]: row for row in songs}
    actions = (
        {
            "_index": plays_index(prefix, play["played_at"].year, play["played_at"].month),
            "_id": str(play["_id"]),
            "_source": play_document(play, by_id.get(play["song_id"])),
        }
        for play in plays
    )
    indexed, errors = await async_bulk(es, actions, refresh=True)
    assert indexed == len(plays), errors


async def get_json(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
