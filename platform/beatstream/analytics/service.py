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
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.analytics import repository
from beatstream.analytics.schemas import (
    ArtistChart,
    ArtistViews,
    ChartArtist,
    ChartSong,
    GenreShares,
    GenreViews,
    Movement,
    PlaysBucket,
    PlaysHistogram,
    PlaysQuery,
    SongChart,
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


# Charts from the plays -------------------------------------------------------------

# Every chart is computed (and frozen) at this size; a request's `limit` takes its
# head. Movement compares against the previous period's chart of this size.
CHART_SIZE = 100
ChartKind = Literal["songs", "artists"]


def period(window: str, day: date) -> tuple[datetime, datetime, datetime]:
    """(previous period's start, start, end) of the UTC day, ISO week or month holding `day`."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if window == "day":
        return midnight - timedelta(days=1), midnight, midnight + timedelta(days=1)
    if window == "week":
        start = midnight - timedelta(days=day.weekday())
        return start - timedelta(weeks=1), start, start + timedelta(weeks=1)
    start = midnight.replace(day=1)
    previous = (start - timedelta(days=1)).replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return previous, start, end


def competition_ranks(counts: list[int]) -> list[int]:
    """Ranks for counts in descending order; equal counts share a rank ("1224")."""
    ranks: list[int] = []
    for position, count in enumerate(counts):
        ranks.append(ranks[-1] if position and counts[position - 1] == count else position + 1)
    return ranks


def movement(rank: int, previous_rank: int | None) -> Movement:
    if previous_rank is None:
        return Movement(kind="new", by=0, previous_rank=None)
    moved = previous_rank - rank
    kind = "up" if moved > 0 else "down" if moved < 0 else "same"
    return Movement(kind=kind, by=abs(moved), previous_rank=previous_rank)


def chart_exactness(
    response: Mapping[str, Any], terms: list[Mapping[str, Any]], listeners: list[int]
) -> tuple[bool, int | None]:
    """Count-ordered terms: Elasticsearch's `doc_count_error_upper_bound` is a real
    bound on every play count (0 on one shard, or when no term was cut off). Listener
    counts are exact below `LISTENERS_EXACT_BELOW`; above it the bound is unknown."""
    exact, bound = exactness(response)
    if not exact:
        return exact, bound
    if any(count >= repository.LISTENERS_EXACT_BELOW for count in listeners):
        return False, None
    shards = response.get("_shards", {}).get("total", 0)
    worst = max(
        (
            int(t.get("doc_count_error_upper_bound", 0))
            for t in terms
            if shards > 1 and t.get("sum_other_doc_count", 0)
        ),
        default=0,
    )
    return worst == 0, worst


def _ranked(buckets: list[Mapping[str, Any]], keep: set[str] | None) -> list[tuple[Any, int]]:
    """(bucket, rank) in chart order, without the keys not in `keep` (deleted songs)."""
    kept = [b for b in buckets if keep is None or b["key"] in keep]
    return list(zip(kept, competition_ranks([b["doc_count"] for b in kept]), strict=True))


async def chart(
    es: AsyncElasticsearch,
    config: ElasticsearchSettings,
    kind: ChartKind,
    window: str,
    day: date,
    country: str | None,
) -> SongChart | ArtistChart:
    """The full chart (`CHART_SIZE` entries) of the period holding `day`, from the plays.

    Songs no longer in the catalogue leave both this and the previous ranking (their
    titles are gone); artists stay, nameless, as `top_artists` keeps them.
    """
    previous, start, end = period(window, day)
    response = await repository.play_chart(
        es,
        config,
        field="song_id" if kind == "songs" else "artist_id",
        previous=previous,
        start=start,
        end=end,
        country=country,
        size=CHART_SIZE,
    )
    aggs = response.get("aggregations", {})
    now_terms = aggs.get("current", {}).get("top", {})
    before_terms = aggs.get("previous", {}).get("top", {})
    now_buckets = now_terms.get("buckets", [])
    before_buckets = before_terms.get("buckets", [])
    keys = list(dict.fromkeys(b["key"] for b in now_buckets + before_buckets))
    listeners = [int(b["listeners"]["value"]) for b in now_buckets]
    exact, bound = chart_exactness(response, [now_terms, before_terms], listeners)
    period_fields: dict[str, Any] = {
        "window": window,
        "start": start,
        "end": end,
        "frozen": False,
        "country": country,
        "limit": CHART_SIZE,
        "as_of": as_of(response),
        "exact": exact,
        "error_bound": bound,
    }
    if kind == "songs":
        songs = await repository.songs_by_id(es, config, keys)
        before = {b["key"]: rank for b, rank in _ranked(before_buckets, set(songs))}
        return SongChart(
            **period_fields,
            items=[
                ChartSong(
                    rank=rank,
                    plays=b["doc_count"],
                    listeners=int(b["listeners"]["value"]),
                    movement=movement(rank, before.get(b["key"])),
                    song_id=b["key"],
                    title=songs[b["key"]]["title"],
                    artist_name=songs[b["key"]]["artist_name"],
                    album_title=songs[b["key"]]["album_title"],
                )
                for b, rank in _ranked(now_buckets, set(songs))
            ],
        )
    names = await repository.artist_names(es, config, keys)
    before = {b["key"]: rank for b, rank in _ranked(before_buckets, None)}
    return ArtistChart(
        **period_fields,
        items=[
            ChartArtist(
                rank=rank,
                plays=b["doc_count"],
                listeners=int(b["listeners"]["value"]),
                movement=movement(rank, before.get(b["key"])),
                artist_id=b["key"],
                artist_name=names.get(b["key"]),
            )
            for b, rank in _ranked(now_buckets, None)
        ],
    )


def head(full: SongChart | ArtistChart, limit: int) -> SongChart | ArtistChart:
    """The first `limit` entries of a full chart (what one request asked for)."""
    return full.model_copy(update={"items": full.items[:limit], "limit": limit})


async def frozen_chart(
    db: AsyncDatabase[dict[str, Any]],
    kind: ChartKind,
    window: str,
    day: date,
    country: str | None,
) -> SongChart | ArtistChart | None:
    """The chart frozen for that period, if `charts build` has stored it."""
    _, start, _ = period(window, day)
    stored = await repository.frozen_chart(db, repository.chart_id(kind, window, start, country))
    if stored is None:
        return None
    stored.pop("_id", None)
    model = SongChart if kind == "songs" else ArtistChart
    return model.model_validate(stored)


async def freeze(
    db: AsyncDatabase[dict[str, Any]],
    es: AsyncElasticsearch,
    config: ElasticsearchSettings,
    kind: ChartKind,
    window: str,
    day: date,
    country: str | None,
) -> bool:
    """Compute a closed period's chart and store it, unless one is stored already; True
    when this call stored it. The caller makes sure the period has closed."""
    full = await chart(es, config, kind, window, day, country)
    _, start, _ = period(window, day)
    body = full.model_copy(update={"frozen": True}).model_dump(mode="json")
    return await repository.freeze_chart(
        db, repository.chart_id(kind, window, start, country), body
    )


async def countries_played(
    es: AsyncElasticsearch, config: ElasticsearchSettings, start: datetime, end: datetime
) -> list[str]:
    """The countries with plays in `[start, end)`: those get a chart of their own."""
    return await repository.countries_played(es, config, start, end)
