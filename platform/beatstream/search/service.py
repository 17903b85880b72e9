"""Search rules: stable deep pages via `search_after`, cursors bound to their query."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from elasticsearch import AsyncElasticsearch

from beatstream.errors import InvalidInputError
from beatstream.search import repository
from beatstream.search.schemas import SearchQuery, SearchResult, Suggestions


def _fingerprint(params: SearchQuery) -> str:
    """What a page's results depend on (not `limit`, which may change between pages)."""
    key = params.model_dump(
        include={
            "q",
            "genre",
            "year_from",
            "year_to",
            "duration_min",
            "duration_max",
            "artist",
            "country",
            "sort",
        }
    )
    return hashlib.sha256(orjson.dumps(key, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def encode_cursor(params: SearchQuery, sort_values: list[Any]) -> str:
    raw = orjson.dumps({"f": _fingerprint(params), "a": sort_values})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(params: SearchQuery) -> list[Any] | None:
    if params.cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(params.cursor + "=" * (-len(params.cursor) % 4))
        payload = orjson.loads(raw)
        after = payload["a"]
        fingerprint = payload["f"]
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise InvalidInputError("cursor", "not a cursor this API issued", location="query") from exc
    if fingerprint != _fingerprint(params) or not isinstance(after, list):
        raise InvalidInputError(
            "cursor", "this cursor belongs to a different search", location="query"
        )
    return after


def _hit(hit: Mapping[str, Any]) -> dict[str, Any]:
    source = hit["_source"]
    return {
        "id": source["id"],
        "title": source["title"],
        "artist": {"id": source["artist_id"], "name": source["artist_name"]},
        "genre": source["genre"],
        "album": {"title": source["album_title"], "release_year": source["release_year"]},
        "duration_s": source.get("duration_s"),
        "views": source.get("total_views") or 0,
        "score": hit.get("_score"),
        "highlight": hit.get("highlight", {}),
    }


def _song_search(params: SearchQuery) -> repository.SongSearch:
    return repository.SongSearch(
        q=params.q,
        genre=params.genre,
        year_from=params.year_from,
        year_to=params.year_to,
        country=params.country,
        limit=params.limit,
        duration_min=params.duration_min,
        duration_max=params.duration_max,
        artist=params.artist,
        sort=params.sort,
    )


async def search_songs(es: AsyncElasticsearch, alias: str, params: SearchQuery) -> SearchResult:
    search_after = decode_cursor(params)
    response = await repository.search_songs(es, alias, _song_search(params), search_after)
    hits = response["hits"]["hits"]
    total = response["hits"]["total"]
    aggs = response.get("aggregations", {})
    next_cursor = encode_cursor(params, hits[-1]["sort"]) if len(hits) == params.limit else None
    return SearchResult.model_validate(
        {
            "items": [_hit(h) for h in hits],
            "total": total["value"],
            "total_is_exact": total["relation"] == "eq",
            "facets": {
                "genres": [
                    {"genre": b["key"], "count": b["doc_count"]}
                    for b in aggs.get("genres", {}).get("buckets", [])
                ],
                "decades": [
                    {"decade": int(b["key"]), "count": b["doc_count"]}
                    for b in aggs.get("decades", {}).get("buckets", [])
                ],
            },
            "next_cursor": next_cursor,
        }
    )


async def suggest(es: AsyncElasticsearch, alias: str, prefix: str, limit: int) -> Suggestions:
    response = await repository.suggest(es, alias, prefix, limit)
    suggest = response.get("suggest", {})
    songs = [o["_source"] for entry in suggest.get("songs", []) for o in entry["options"]]
    artists = [o["_source"] for entry in suggest.get("artists", []) for o in entry["options"]]
    return Suggestions.model_validate(
        {
            "songs": [
                {"id": s["id"], "title": s["title"], "artist_name": s["artist_name"]} for s in songs
            ],
            "artists": [{"id": a["artist_id"], "name": a["artist_name"]} for a in artists],
        }
    )
