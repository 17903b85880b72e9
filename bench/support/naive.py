"""The naive baseline: the original recipe's reads (`../shared/docs/reference-recipes.md`)
written the obvious way, against Beatstream's own data, for `bench.http_overhead`.

- `GET /song/{id}`: `find_one` by `_id`, the raw document returned (id as a string).
- `GET /playlist/{id}`: `find_one` for the playlist, then one `$in` query for its songs
  (database order, as the recipe says).
- `GET /search/top/ten/artists/{country}`: Redis `GET` of a per-country key; on a miss
  the Elasticsearch terms aggregation (size 10, by the sum of that country's views),
  stored with `SET ... EX 3600`; the cached JSON is parsed and re-serialised per request.

No validation, no response models, no middleware: what Beatstream must beat. It reads
the stores from the same variables as `beatstream serve` (`MONGODB_URL`, `MONGODB_DB`,
`ELASTICSEARCH_*`, `REDIS_URL`, `REDIS_KEY_PREFIX`).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from fastapi import FastAPI
from pymongo import AsyncMongoClient

STORES: dict[str, Any] = {}


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(os.environ["MONGODB_URL"])
    STORES["db"] = mongo[os.environ["MONGODB_DB"]]
    STORES["es"] = AsyncElasticsearch(os.environ["ELASTICSEARCH_URL"])
    STORES["redis"] = aioredis.from_url(os.environ["REDIS_URL"])
    yield
    await mongo.close()
    await STORES["es"].close()
    await STORES["redis"].aclose()


app = FastAPI(lifespan=_lifespan)


def _stringify(doc: dict[str, Any]) -> dict[str, Any]:
    doc["_id"] = str(doc["_id"])
    return doc


@app.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "alive"}


@app.get("/song/{song_id}")
async def song(song_id: str) -> Any:
    doc = await STORES["db"].songs.find_one({"_id": ObjectId(song_id)})
    doc = _stringify(doc)
    doc["artist"]["id"] = str(doc["artist"]["id"])
    return doc


@app.get("/playlist/{playlist_id}")
async def playlist(playlist_id: str) -> Any:
    db = STORES["db"]
    doc = await db.playlists.find_one({"_id": ObjectId(playlist_id)})
    songs = await db.songs.find({"_id": {"$in": doc["song_ids"]}}).to_list(None)
    for row in songs:
        _stringify(row)
        row["artist"]["id"] = str(row["artist"]["id"])
    doc = _stringify(doc)
    doc["owner_id"] = str(doc["owner_id"])
    doc["song_ids"] = [str(s) for s in doc["song_ids"]]
    doc["songs"] = songs
    return doc


@app.get("/search/top/ten/artists/{country}")
async def top_ten_artists(country: str) -> Any:
    key = f"{os.environ['REDIS_KEY_PREFIX']}naive:top_ten_artists:{country}"
    cached = await STORES["redis"].get(key)
    if cached is not None:
        return json.loads(cached)
    field = f"views_per_country.{country}"
    index = f"{os.environ['ELASTICSEARCH_INDEX_PREFIX']}-songs"
    response = await STORES["es"].search(
        index=index,
        size=0,
        query={"exists": {"field": field}},
        aggs={
            "artists": {
                "terms": {"field": "artist_name.keyword", "size": 10, "order": {"views": "desc"}},
                "aggs": {"views": {"sum": {"field": field}}},
            }
        },
    )
    result = [
        {"artist": b["key"], "views": int(b["views"]["value"])}
        for b in response["aggregations"]["artists"]["buckets"]
    ]
    await STORES["redis"].set(key, json.dumps(result), ex=3600)
    return result
