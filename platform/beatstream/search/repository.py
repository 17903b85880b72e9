"""Every Elasticsearch query for song search and typeahead, and bulk writes of songs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_bulk

from beatstream.search.indices import song_document

SEARCH_FIELDS = ["title^3", "artist_name^2", "album_title"]
HIGHLIGHT = {
    "pre_tags": ["<em>"],
    "post_tags": ["</em>"],
    "fields": {"title": {}, "artist_name": {}, "album_title": {}},
}
SOURCE = [
    "id",
    "title",
    "artist_id",
    "artist_name",
    "genre",
    "album_title",
    "release_year",
    "duration_s",
    "total_views",
]
# Each sort's Elasticsearch keys; every one ends on `id`, so `search_after` pages are stable.
SORTS: dict[str, list[Any]] = {
    "views": [{"total_views": "asc"}, {"id": "asc"}],
    "-views": [{"total_views": "desc"}, {"id": "asc"}],
    "year": [{"release_year": "asc"}, {"id": "asc"}],
    "-year": [{"release_year": "desc"}, {"id": "asc"}],
}


@dataclass(frozen=True, slots=True)
class SongSearch:
    """One page's search as plain values: the repository knows no HTTP query model (the
    service builds this from one; the cursor is already decoded into `search_after`)."""

    q: str | None
    genre: str | None
    year_from: int | None
    year_to: int | None
    country: str | None
    limit: int
    duration_min: int | None = None
    duration_max: int | None = None
    artist: str | None = None
    sort: str = "relevance"


def _filters(params: SongSearch) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if params.genre is not None:
        filters.append({"term": {"genre": params.genre}})
    years: dict[str, int] = {}
    if params.year_from is not None:
        years["gte"] = params.year_from
    if params.year_to is not None:
        years["lte"] = params.year_to
    if years:
        filters.append({"range": {"release_year": years}})
    seconds: dict[str, int] = {}
    if params.duration_min is not None:
        seconds["gte"] = params.duration_min
    if params.duration_max is not None:
        seconds["lte"] = params.duration_max
    if seconds:
        filters.append({"range": {"duration_s": seconds}})
    if params.artist is not None:
        filters.append({"term": {"artist_id": params.artist}})
    if params.country is not None:  # a validated ISO code: a known, mapped field
        filters.append({"range": {f"views_per_country.{params.country}": {"gt": 0}}})
    return filters


def search_body(params: SongSearch, search_after: list[Any] | None) -> dict[str, Any]:
    """User text only ever goes into `multi_match`, which does not parse query syntax,
    so `AND`, `*`, `field:value` or unbalanced quotes are just words to match."""
    must: list[dict[str, Any]] = []
    if params.q:
        must.append(
            {
                "multi_match": {
                    "query": params.q,
                    "fields": SEARCH_FIELDS,
                    "fuzziness": "AUTO",
                    "prefix_length": 1,
                    "operator": "or",
                }
            }
        )
    if params.sort in SORTS:
        sort = SORTS[params.sort]
    else:  # relevance
        sort = [{"_score": "desc"}, {"id": "asc"}] if params.q else SORTS["-views"]
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": _filters(params)}},
        "sort": sort,
        "size": params.limit,
        "track_total_hits": 10_000,
        "_source": SOURCE,
        "highlight": HIGHLIGHT,
        "aggs": {
            "genres": {"terms": {"field": "genre", "size": 30}},
            "decades": {"histogram": {"field": "release_year", "interval": 10, "min_doc_count": 1}},
        },
    }
    if search_after is not None:
        body["search_after"] = search_after
    return body


async def search_songs(
    es: AsyncElasticsearch, alias: str, params: SongSearch, search_after: list[Any] | None
) -> Mapping[str, Any]:
    response = await es.search(index=alias, **search_body(params, search_after))
    body: Mapping[str, Any] = response.body
    return body


async def suggest(es: AsyncElasticsearch, alias: str, prefix: str, limit: int) -> Mapping[str, Any]:
    """Two completion suggesters in one request; artists de-duplicated across their songs."""
    response = await es.search(
        index=alias,
        size=0,
        source={"includes": ["id", "title", "artist_id", "artist_name"]},
        suggest={
            "songs": {
                "prefix": prefix,
                "completion": {"field": "suggest_song", "size": limit, "skip_duplicates": True},
            },
            "artists": {
                "prefix": prefix,
                "completion": {"field": "suggest_artist", "size": limit, "skip_duplicates": True},
            },
        },
    )
    body: Mapping[str, Any] = response.body
    return body


@dataclass
class BulkOutcome:
    indexed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


async def bulk_index_songs(
    es: AsyncElasticsearch, alias: str, rows: Iterable[Mapping[str, Any]], *, refresh: bool = False
) -> BulkOutcome:
    """Index song rows by id (idempotent) and report every item that failed.

    A bulk request answers 200 even when items fail, so each item is checked.
    """
    actions = (
        {"_op_type": "index", "_index": alias, "_id": doc["id"], "_source": doc}
        for doc in (song_document(row) for row in rows)
    )
    outcome = BulkOutcome()
    indexed, errors = await async_bulk(
        es, actions, raise_on_error=False, raise_on_exception=False, refresh=refresh
    )
    outcome.indexed = indexed
    for error in errors if isinstance(errors, list) else []:
        item = next(iter(error.values()))
        outcome.failed.append((str(item.get("_id")), str(item.get("error"))[:300]))
    return outcome
