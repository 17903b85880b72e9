"""Document and index-key sizes in BSON, for the capacity arithmetic of docs/scaling.md.

Seeds a scratch database with `seed.load.load` (the same generator as `beatstream
seed`, listeners with their pseudonymous key), reads every document back and measures
`len(bson.encode(doc))`, which is what mongosh's `bsonsize()` returns. Shapes the seed
does not make are built as the API stores them: an account (argon2id hash), playlists
of 50 and of `MAX_SONGS` songs, an audit row. Index-key sizes are the BSON size of the
indexed fields of each play event, an uncompressed upper bound for an index entry's key
(WiredTiger's prefix compression makes the stored ones smaller).

Runs against the local stand-in by default; set MONGODB_URL to measure elsewhere (on a
real MongoDB it also reports `collStats` storage and index sizes, which are real).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import statistics
import uuid
from datetime import UTC, datetime
from typing import Any

import bson
from argon2 import PasswordHasher
from bson import ObjectId

from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.playlists.documents import MAX_SONGS
from beatstream.settings import MongoSettings
from beatstream.stores.clients import create_mongo_client
from bench import report
from bench.support.stores import stack_settings
from seed.generate import Counts
from seed.load import load

COUNTS = Counts(artists=200, songs=2_000, listeners=2_000, plays=20_000)
PLAY_INDEXES = {
    "_id_": ("_id",),
    "song_played_id": ("song_id", "played_at", "_id"),
    "listener_played_id": ("listener_id", "played_at", "_id"),
    "shard key (listener_id hashed, played_at)": ("listener_id", "played_at"),
}


def _stats(name: str, sizes: list[int]) -> dict[str, Any]:
    return {
        "what": name,
        "documents": len(sizes),
        "mean B": round(statistics.fmean(sizes)),
        "p50 B": report.percentile([float(s) for s in sizes], 50),
        "p99 B": report.percentile([float(s) for s in sizes], 99),
        "max B": max(sizes),
    }


def _built_shapes() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    account = {
        "_id": ObjectId(),
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "name": "Ada Lovelace",
        "email": "ada.lovelace@example.com",
        "year_of_birth": 1990,
        "country": "GB",
        "consent_to_share_data": True,
        "actions": [],
        "password_hash": PasswordHasher().hash("correct horse battery staple"),
        "role": "listener",
        "token_generation": 0,
        "listener_key": Pseudonyms(b"k" * 32).listener_key(ObjectId()),
    }

    def playlist(songs: int) -> dict[str, Any]:
        return {
            "_id": ObjectId(),
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "owner_id": ObjectId(),
            "name": "Road trip",
            "visibility": "private",
            "song_ids": [ObjectId() for _ in range(songs)],
        }

    audit = {
        "_id": ObjectId(),
        "key_id": "bk_" + "a" * 16,
        "key_name": "acme",
        "view": "play_stats",
        "filters": {"country": "FR", "week": "2026-W10"},
        "rows": 5000,
        "format": "ndjson",
        "request_id": uuid.uuid4().hex,
        "at": now,
    }
    return [
        _stats("listener account (API, argon2id hash)", [len(bson.encode(account))]),
        _stats("playlist, 50 songs (API)", [len(bson.encode(playlist(50)))]),
        _stats(
            f"playlist, {MAX_SONGS} songs (API maximum)", [len(bson.encode(playlist(MAX_SONGS)))]
        ),
        _stats("audit_log row (API)", [len(bson.encode(audit))]),
    ]


async def _measure(settings: MongoSettings) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    client = create_mongo_client(settings)
    db = client[settings.db]
    rows: list[dict[str, Any]] = []
    storage: dict[str, Any] = {}
    try:
        result = await load(db, COUNTS, 42, derived=None, pseudonyms=Pseudonyms(b"k" * 32))
        assert result.ok, result.failures[:5]
        for collection in ("artists", "songs", "listeners", "play_events"):
            raws = await db[collection].find({}).to_list(None)
            rows.append(_stats(f"{collection} (seeded)", [len(bson.encode(r)) for r in raws]))
            if collection == "play_events":
                for index, fields in PLAY_INDEXES.items():
                    keys = [len(bson.encode({f: r[f] for f in fields})) for r in raws]
                    rows.append(_stats(f"play_events key of {index}", keys))
            try:
                stats = await db.command({"collStats": collection})
                storage[collection] = {
                    k: stats.get(k) for k in ("avgObjSize", "storageSize", "indexSizes")
                }
            except Exception as exc:  # noqa: BLE001 - a stand-in may lack collStats: say so
                storage[collection] = f"collStats unavailable: {exc}"[:200]
    finally:
        await client.drop_database(settings.db)
        await client.close()
    return rows + _built_shapes(), storage


def run() -> None:
    url = os.environ.get("MONGODB_URL")
    db = f"bench_sizes_{uuid.uuid4().hex[:8]}"
    settings = MongoSettings(url=url, db=db) if url else stack_settings(db).mongodb
    table, storage = asyncio.run(_measure(settings))
    report.write(
        "doc_sizes", {"counts": dataclasses.asdict(COUNTS), "seed": 42, "collStats": storage}, table
    )


if __name__ == "__main__":
    run()
