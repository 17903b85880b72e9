"""Analytics rules: shape Elasticsearch answers and say honestly how exact they are.

Exactness is read from each response, never assumed:

- shards that failed or a search that timed out mean partial data: `exact=false`,
  `error_bound=null`;
- a terms aggregation answered by one shard is exact (nothing is merged);
- across several shards it is exact only if `sum_other_doc_count` is 0, i.e. every
  term of every shard made it into the answer. Otherwise the bound is unknown:
  our terms are ordered by a `sum`, and Elasticsearch's `doc_count_error_upper_bound`
  bounds document counts under count ordering, not sums (it reports 0 for a
  sum-ordered aggregation over three shards, measured), so it is not quoted;
- sorted hits and date histograms count every matching document: exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import AsyncElasticsearch

from beatstream.analytics import repository
from beatstream.analytics.schemas import (
    ArtistViews,
    GenreShares,
    GenreViews,
    PlaysBucket,
    PlaysHistogram,
    PlaysQuery,
    SongViews,
    TopArtists,
    TopSongs,
)
from beatstream.settings import ElasticsearchSettings


def exactness(
    response: Mapping[str, Any], terms: Mapping[str, Any] | None = None
) -> tuple[bool, int | None]:
    """(exact, error_bound) for a response, and for one terms aggregation in it if given."""
    shards = response.get("_shards", {})
    if shards.get("failed", 0) or response.get("timed_out", False):
        return False, None
    if terms is None or shards.get("total", 0) <= 1 or terms.get("sum_other_doc_count", 0) == 0:
        return True, 0
    return False, None


def as_of(response: Mapping[str, Any]) -> datetime | None:
    """The `global` max timestamp, or None when the index is empty or missing."""
    latest = response.get("aggregations", {}).get("freshness", {}).get("latest", {})
    value = latest.get("value")
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC)


def _views(value: float | None) -> int:
    return round(value or 0)


async def top_artists(
    es: AsyncElasticsearch, config: ElasticsearchSettings, country: str | None, limit: int
) -> TopArtists:
    response = await repository.top_artists(es, config, country, limit)
    terms = response.get("aggregations", {}).get("artists", {})
    items = []
    for bucket in terms.get("buckets", []):
        hits = bucket["name"]["hits"]["hits"]
        name = hits[0]["_source"].get("artist_name") if hits else None
        items.append(
            ArtistViews(
                artist_id=bucket["key"], artist_name=name, views=_views(bucket["views"]["value"])
            )
        )
    exact, bound = exactness(response, terms)
    return TopArtists(
        country=country,
        limit=limit,
        items=items,
        as_of=as_of(response),
        exact=exact,
        error_bound=bound,
    )


async def top_songs(
    es: AsyncElasticsearch, config: ElasticsearchSettings, country: str | None, limit: int
) -> TopSongs:
    response = await repository.top_songs(es, config, country, limit)
    items = [
        SongViews(
            song_id=hit["_source"]["id"],
            title=hit["_source"]["title"],
            artist_name=hit["_source"]["artist_name"],
            album_title=hit["_source"]["album_title"],
            views=_views(hit["sort"][0]),
        )
        for hit in response.get("hits", {}).get("hits", [])
    ]
    exact, bound = exactness(response)
    return TopSongs(
        country=country,
        limit=limit,
        items=items,
        as_of=as_of(response),
        exact=exact,
        error_bound=bound,
    )


async def genre_shares(
    es: AsyncElasticsearch, config: ElasticsearchSettings, country: str | None
) -> GenreShares:
    response = await repository.genre_views(es, config, country)
    aggs = response.get("aggregations", {})
    terms = aggs.get("genres", {})
    total = _views(aggs.get("total", {}).get("value"))
    items = [
        GenreViews(
            genre=bucket["key"],
            views=(views := _views(bucket["views"]["value"])),
            share=views / total if total else 0.0,
        )
        for bucket in terms.get("buckets", [])
    ]
    exact, bound = exactness(response, terms)
    return GenreShares(
        country=country,
        total_views=total,
        other_views=total - sum(item.views for item in items),
        items=items,
        as_of=as_of(response),
        exact=exact,
        error_bound=bound,
    )


def bucket_starts(interval: str, start: datetime, end: datetime) -> list[datetime]:
    """Calendar bucket starts (UTC) covering `[start, end)`, as Elasticsearch keys them.

    Used when the plays alias has no index yet and Elasticsearch returns no buckets.
    """
    start = start.astimezone(UTC)
    if interval == "month":
        current = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        current = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if interval == "week":
            current -= timedelta(days=current.weekday())
    starts = []
    while current < end:
        starts.append(current)
        if interval == "month":
            year, month = divmod(current.month, 12)
            current = current.replace(year=current.year + year, month=month + 1)
        else:
            current += timedelta(days=7 if interval == "week" else 1)
    return starts


async def plays_histogram(
    es: AsyncElasticsearch,
    config: ElasticsearchSettings,
    query: PlaysQuery,
    now: datetime | None = None,
) -> PlaysHistogram:
    start, end = query.bounds(now or datetime.now(UTC))
    response = await repository.plays_histogram(
        es,
        config,
        interval=query.interval,
        start=start,
        end=end,
        country=query.country,
        song_id=query.song,
    )
    histogram = response.get("aggregations", {}).get("plays")
    if histogram is None:  # no plays index behind the alias yet
        buckets = [PlaysBucket(start=s, plays=0) for s in bucket_starts(query.interval, start, end)]
    else:
        buckets = [
            PlaysBucket(start=datetime.fromtimestamp(b["key"] / 1000, UTC), plays=b["doc_count"])
            for b in histogram["buckets"]
        ]
    exact, bound = exactness(response)
    return PlaysHistogram(
        interval=query.interval,
        from_=start,
        to=end,
        country=query.country,
        song=query.song,
        total=sum(b.plays for b in buckets),
        buckets=buckets,
        as_of=as_of(response),
        exact=exact,
        error_bound=bound,
    )
