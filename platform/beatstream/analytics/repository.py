"""Every Elasticsearch query behind the analytics dashboards, each one request, and
the frozen charts in MongoDB (`charts`).

Queries read the aliases (`{prefix}-songs`, `{prefix}-plays`) with
`ignore_unavailable` + `allow_no_indices`, so an alias with no index yet (no play
indexed so far) answers as empty data rather than a 404. Each query carries a
`global` max aggregation on the data's timestamp: the freshness (`as_of`) of the
index the answer was computed on, whatever the filters.

Country names a field (`views_per_country.IT`): callers pass codes validated against
ISO 3166-1, and the mapping declares one long field per code, so any valid code
aggregates and sorts; no user text ever becomes a field name unvalidated.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.common.countries import COUNTRY_CODES
from beatstream.search.indices import SONGS, plays_alias
from beatstream.settings import ElasticsearchSettings
from beatstream.stores.elasticsearch_errors import elasticsearch_unavailable_as_503

# Genres are a short list; a bigger terms size would only cost memory.
GENRE_BUCKETS = 100


def views_field(country: str | None) -> str:
    """`views_per_country.<CC>`, or `total_views` over every country."""
    if country is None:
        return "total_views"
    if country not in COUNTRY_CODES:  # validated upstream; never build a field from junk
        raise ValueError(f"not an ISO 3166-1 alpha-2 code: {country!r}")
    return f"views_per_country.{country}"


def _freshness(field: str) -> dict[str, Any]:
    return {"global": {}, "aggs": {"latest": {"max": {"field": field}}}}


async def _search(
    es: AsyncElasticsearch, config: ElasticsearchSettings, index: str, **body: Any
) -> Mapping[str, Any]:
    with elasticsearch_unavailable_as_503(config.safe_url):
        response = await es.search(
            index=index,
            ignore_unavailable=True,
            allow_no_indices=True,
            track_total_hits=False,
            **body,
        )
    result: Mapping[str, Any] = response.body
    return result


def _has_views(field: str) -> dict[str, Any]:
    return {"bool": {"filter": [{"range": {field: {"gt": 0}}}]}}


async def top_artists(
    es: AsyncElasticsearch, config: ElasticsearchSettings, country: str | None, limit: int
) -> Mapping[str, Any]:
    """Artists by summed views: terms on `artist_id` ordered by a `sum` sub-aggregation,
    ties by id; the name from the artist's most recently updated song."""
    field = views_field(country)
    return await _search(
        es,
        config,
        SONGS.alias(config.index_prefix),
        size=0,
        query=_has_views(field),
        aggs={
            "artists": {
                "terms": {
                    "field": "artist_id",
                    "size": limit,
                    "order": [{"views": "desc"}, {"_key": "asc"}],
                },
                "aggs": {
                    "views": {"sum": {"field": field}},
                    "name": {
                        "top_hits": {
                            "size": 1,
                            "_source": {"includes": ["artist_name"]},
                            "sort": [{"updated_at": {"order": "desc"}}],
                        }
                    },
                },
            },
            "freshness": _freshness("updated_at"),
        },
    )


async def top_songs(
    es: AsyncElasticsearch, config: ElasticsearchSettings, country: str | None, limit: int
) -> Mapping[str, Any]:
    """Songs by views, ties by id; the views come back as the first sort value."""
    field = views_field(country)
    return await _search(
        es,
        config,
        SONGS.alias(config.index_prefix),
        size=limit,
        query=_has_views(field),
        sort=[{field: {"order": "desc"}}, {"id": {"order": "asc"}}],
        source={"includes": ["id", "title", "artist_name", "album_title"]},
        aggs={"freshness": _freshness("updated_at")},
    )


async def genre_views(
    es: AsyncElasticsearch, config: ElasticsearchSettings, country: str | None
) -> Mapping[str, Any]:
    """Views per genre plus the total over every matching song, from one response."""
    field = views_field(country)
    return await _search(
        es,
        config,
        SONGS.alias(config.index_prefix),
        size=0,
        query=_has_views(field) if country else {"match_all": {}},
        aggs={
            "genres": {
                "terms": {
                    "field": "genre",
                    "size": GENRE_BUCKETS,
                    "order": [{"views": "desc"}, {"_key": "asc"}],
                },
                "aggs": {"views": {"sum": {"field": field}}},
            },
            "total": {"sum": {"field": field}},
            "freshness": _freshness("updated_at"),
        },
    )


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def plays_histogram(
    es: AsyncElasticsearch,
    config: ElasticsearchSettings,
    *,
    interval: str,
    start: datetime,
    end: datetime,
    country: str | None,
    song_id: str | None,
) -> Mapping[str, Any]:
    """Plays in `[start, end)` per calendar interval (UTC), empty buckets included."""
    played = {"gte": _epoch_ms(start), "lt": _epoch_ms(end), "format": "epoch_millis"}
    filters: list[dict[str, Any]] = [{"range": {"played_at": played}}]
    if country is not None:
        filters.append({"term": {"country": country}})
    if song_id is not None:
        filters.append({"term": {"song_id": song_id}})
    return await _search(
        es,
        config,
        plays_alias(config.index_prefix),
        size=0,
        query={"bool": {"filter": filters}},
        aggs={
            "plays": {
                "date_histogram": {
                    "field": "played_at",
                    "calendar_interval": interval,
                    "time_zone": "UTC",
                    "min_doc_count": 0,
                    # Inclusive bounds: the last millisecond of the half-open range.
                    "extended_bounds": {"min": _epoch_ms(start), "max": _epoch_ms(end) - 1},
                }
            },
            "freshness": _freshness("played_at"),
        },
    )


# Charts from the plays -------------------------------------------------------------

# Distinct listeners come from `cardinality`: below this many per entry its count is
# exact (it keeps every 64-bit hash; a collision is the only error); at or above it,
# HyperLogLog estimates. 40,000 is Elasticsearch's maximum.
LISTENERS_EXACT_BELOW = 40_000


def _chart_terms(field: str, size: int, listeners: bool) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "terms": {
            "field": field,
            "size": size,
            # Count order: `doc_count_error_upper_bound` is then a true bound.
            "order": [{"_count": "desc"}, {"_key": "asc"}],
            "shard_size": size * 10,
        }
    }
    if listeners:
        terms["aggs"] = {
            "listeners": {
                "cardinality": {
                    "field": "listener_id",
                    "precision_threshold": LISTENERS_EXACT_BELOW,
                }
            }
        }
    return terms


def _played_between(start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "range": {
            "played_at": {"gte": _epoch_ms(start), "lt": _epoch_ms(end), "format": "epoch_millis"}
        }
    }


async def play_chart(
    es: AsyncElasticsearch,
    config: ElasticsearchSettings,
    *,
    field: str,
    previous: datetime,
    start: datetime,
    end: datetime,
    country: str | None,
    size: int,
) -> Mapping[str, Any]:
    """The top `size` values of `field` (`song_id` or `artist_id`) by plays in
    `[start, end)` with their distinct listeners, and the top `size` of the previous
    period `[previous, start)` for movement: one request, two filter aggregations."""
    filters: list[dict[str, Any]] = [_played_between(previous, end)]
    if country is not None:
        filters.append({"term": {"country": country}})
    return await _search(
        es,
        config,
        plays_alias(config.index_prefix),
        size=0,
        query={"bool": {"filter": filters}},
        aggs={
            "current": {
                "filter": _played_between(start, end),
                "aggs": {"top": _chart_terms(field, size, listeners=True)},
            },
            "previous": {
                "filter": _played_between(previous, start),
                "aggs": {"top": _chart_terms(field, size, listeners=False)},
            },
            "freshness": _freshness("played_at"),
        },
    )


async def songs_by_id(
    es: AsyncElasticsearch, config: ElasticsearchSettings, ids: list[str]
) -> dict[str, Mapping[str, Any]]:
    """The songs index's title, artist and album for these ids (deleted songs absent)."""
    if not ids:
        return {}
    response = await _search(
        es,
        config,
        SONGS.alias(config.index_prefix),
        size=len(ids),
        query={"ids": {"values": ids}},
        source={"includes": ["id", "title", "artist_name", "album_title"]},
    )
    return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}


async def artist_names(
    es: AsyncElasticsearch, config: ElasticsearchSettings, ids: list[str]
) -> dict[str, str]:
    """Each artist's name from their most recently updated song (as `top_artists`)."""
    if not ids:
        return {}
    response = await _search(
        es,
        config,
        SONGS.alias(config.index_prefix),
        size=0,
        query={"terms": {"artist_id": ids}},
        aggs={
            "artists": {
                "terms": {"field": "artist_id", "size": len(ids)},
                "aggs": {
                    "name": {
                        "top_hits": {
                            "size": 1,
                            "_source": {"includes": ["artist_name"]},
                            "sort": [{"updated_at": {"order": "desc"}}],
                        }
                    }
                },
            }
        },
    )
    buckets = response.get("aggregations", {}).get("artists", {}).get("buckets", [])
    return {
        b["key"]: b["name"]["hits"]["hits"][0]["_source"]["artist_name"]
        for b in buckets
        if b["name"]["hits"]["hits"]
    }


# Frozen charts (MongoDB `charts`, written by `beatstream charts build`) --------------

CHARTS = "charts"


def chart_id(kind: str, window: str, start: datetime, country: str | None) -> str:
    """One document per chart: `songs:week:2026-11-16:IT` (`*` for global)."""
    return f"{kind}:{window}:{start.date().isoformat()}:{country or '*'}"


async def frozen_chart(db: AsyncDatabase[dict[str, Any]], chart: str) -> dict[str, Any] | None:
    return await db[CHARTS].find_one({"_id": chart})


async def freeze_chart(db: AsyncDatabase[dict[str, Any]], chart: str, body: dict[str, Any]) -> bool:
    """Store a chart once: an existing one is never replaced (frozen means forever).
    True when this call stored it."""
    result = await db[CHARTS].update_one({"_id": chart}, {"$setOnInsert": body}, upsert=True)
    return result.upserted_id is not None


async def countries_played(
    es: AsyncElasticsearch, config: ElasticsearchSettings, start: datetime, end: datetime
) -> list[str]:
    response = await _search(
        es,
        config,
        plays_alias(config.index_prefix),
        size=0,
        query={"bool": {"filter": [_played_between(start, end)]}},
        aggs={"countries": {"terms": {"field": "country", "size": 300}}},
    )
    buckets = response.get("aggregations", {}).get("countries", {}).get("buckets", [])
    return sorted(b["key"] for b in buckets)
