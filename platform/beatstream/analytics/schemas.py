"""Request and response models for the search dashboards' analytics (under /v1/analytics)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from beatstream.common.countries import CountryCode
from beatstream.common.inputs import InputModel, OutputModel
from beatstream.common.instants import Instant

Interval = Literal["day", "week", "month"]
Window = Literal["day", "week", "month", "all"]
MovementKind = Literal["new", "up", "down", "same"]
# The type of a field named `date` (in the class body the name is the field).
Day = date
TopLimit = Annotated[int, Field(ge=1, le=100, description="How many to return (1-100).")]

# The widest range each interval may cover (so one answer stays a few hundred buckets),
# and the window used when `from` is not given.
MAX_SPAN: dict[str, timedelta] = {
    "day": timedelta(days=2 * 366),
    "week": timedelta(days=10 * 366),
    "month": timedelta(days=50 * 366),
}
DEFAULT_WINDOW: dict[str, timedelta] = {
    "day": timedelta(days=30),
    "week": timedelta(weeks=26),
    "month": timedelta(days=2 * 365),
}


ViewsCountry = Annotated[
    CountryCode | None,
    Field(description="Views in this country (ISO 3166-1 alpha-2, any case); all if absent."),
]


def _lower_hex(value: str) -> str:
    return value.lower()


SongId = Annotated[
    str,
    Field(pattern=r"^[0-9a-fA-F]{24}$", description="A song id (24 hex digits)."),
    AfterValidator(_lower_hex),
]


class TopQuery(InputModel):
    country: ViewsCountry = None
    limit: TopLimit = 10
    # Declared before `date`: its validator reads it.
    window: Window = Field(
        default="all",
        description="`all`: the all-time counters (seeded views plus every counted play). "
        "`day`, `week` (ISO, Monday-Sunday), `month`: plays in that UTC period, ranked.",
    )
    date: Day | None = Field(
        default=None,
        description="YYYY-MM-DD: the period containing this day (default: the current one). "
        "Only with a `window` other than `all`.",
    )

    @field_validator("date")
    @classmethod
    def _only_with_a_window(cls, day: Day | None, info: ValidationInfo) -> Day | None:
        if day is not None and info.data.get("window", "all") == "all":
            raise ValueError("needs window=day, week or month (`all` has no period)")
        return day


class GenreQuery(InputModel):
    country: ViewsCountry = None


class PlaysQuery(InputModel):
    """Plays in the half-open range `[from, to)`, counted per calendar day, week or month (UTC).

    `to` defaults to now and `from` to a window before `to` (30 days, 26 weeks or 2
    years by interval). Both are ISO 8601 date-times with an offset (`Instant`).
    """

    # Declared before `from`: its validator compares against them.
    interval: Interval = "day"
    to: Instant | None = Field(default=None, description="End, exclusive. Default: now.")
    from_: Instant | None = Field(
        default=None, alias="from", description="Start, inclusive. Default: a window before `to`."
    )
    country: CountryCode | None = Field(default=None, description="Only plays from this country.")
    song: SongId | None = Field(default=None, description="Only plays of this song.")

    @field_validator("from_")
    @classmethod
    def _before_to_within_span(
        cls, start: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        if start is None:
            return None
        end = info.data.get("to") or datetime.now(UTC)
        if start >= end:
            raise ValueError("must be before `to` (or before now when `to` is absent)")
        interval = info.data.get("interval")
        if interval in MAX_SPAN and end - start > MAX_SPAN[interval]:
            raise ValueError(
                f"the range may span at most {MAX_SPAN[interval].days} days "
                f"for interval={interval}; use a coarser interval"
            )
        return start

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """The concrete `[from, to)`, defaults filled in relative to `now`."""
        end = self.to or now
        start = self.from_ or end - DEFAULT_WINDOW[self.interval]
        return start, end


class Freshness(OutputModel):
    as_of: datetime | None = Field(
        description="The newest change in the data this answer was computed on (songs: "
        "`updated_at`; plays: `played_at`); null when there is no data."
    )
    exact: bool = Field(
        description="False when the numbers may be approximate (terms counted across "
        "several shards with some terms cut off, or shards that failed)."
    )
    error_bound: int | None = Field(
        description="The most any reported number may be off by: 0 when exact, null when unknown."
    )


class ArtistViews(OutputModel):
    artist_id: str
    artist_name: str | None
    views: int


class TopArtists(Freshness):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "country": "IT",
                    "limit": 10,
                    "items": [
                        {
                            "artist_id": "6650f1c2a1b2c3d4e5f60718",
                            "artist_name": "Mark Ronson",
                            "views": 1234,
                        }
                    ],
                    "as_of": "2026-11-26T09:00:00Z",
                    "exact": True,
                    "error_bound": 0,
                }
            ]
        }
    )

    country: str | None
    limit: int
    items: list[ArtistViews]


class SongViews(OutputModel):
    song_id: str
    title: str
    artist_name: str
    album_title: str
    views: int


class TopSongs(Freshness):
    country: str | None
    limit: int
    items: list[SongViews]


class Movement(OutputModel):
    kind: MovementKind = Field(
        description="Against the previous period's chart (its top 100): `new` if the "
        "entry was not on it, else `up`, `down` or `same`."
    )
    by: int = Field(description="Places moved (0 for `new` and `same`).")
    previous_rank: int | None = Field(description="Rank in the previous period; null if new.")


class ChartEntry(OutputModel):
    rank: int = Field(description="1-based; entries with equal plays share a rank.")
    plays: int = Field(description="Plays in the period.")
    listeners: int = Field(description="Distinct listeners in the period.")
    movement: Movement


class ChartPeriod(Freshness):
    window: Window
    start: datetime = Field(description="The period's first instant (UTC).")
    end: datetime = Field(description="The period's end, exclusive (UTC).")
    frozen: bool = Field(
        description="True when served from the chart frozen after the period closed "
        "(`beatstream charts build`): it never changes, late plays included."
    )
    country: str | None
    limit: int


class ChartSong(ChartEntry):
    song_id: str
    title: str
    artist_name: str
    album_title: str


class ChartArtist(ChartEntry):
    artist_id: str
    artist_name: str | None


_PERIOD_EXAMPLE: dict[str, JsonValue] = {
    "window": "week",
    "start": "2026-11-16T00:00:00Z",
    "end": "2026-11-23T00:00:00Z",
    "frozen": True,
    "country": "IT",
    "limit": 10,
    "as_of": "2026-11-23T00:00:00Z",
    "exact": True,
    "error_bound": 0,
}
_ENTRY_EXAMPLE: dict[str, JsonValue] = {
    "rank": 1,
    "plays": 1234,
    "listeners": 987,
    "movement": {"kind": "up", "by": 2, "previous_rank": 3},
}


class SongChart(ChartPeriod):
    """Top songs of one day, week or month, from the plays."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PERIOD_EXAMPLE,
                    "items": [
                        {
                            **_ENTRY_EXAMPLE,
                            "song_id": "6650f1c2a1b2c3d4e5f60719",
                            "title": "Uptown Funk",
                            "artist_name": "Mark Ronson",
                            "album_title": "Uptown Special",
                        }
                    ],
                }
            ]
        }
    )

    items: list[ChartSong]


class ArtistChart(ChartPeriod):
    """Top artists of one day, week or month, from the plays."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PERIOD_EXAMPLE,
                    "items": [
                        {
                            **_ENTRY_EXAMPLE,
                            "artist_id": "6650f1c2a1b2c3d4e5f60718",
                            "artist_name": "Mark Ronson",
                        }
                    ],
                }
            ]
        }
    )

    items: list[ChartArtist]


class GenreViews(OutputModel):
    genre: str
    views: int
    share: float = Field(description="views / total_views (0 when there are no views).")


class GenreShares(Freshness):
    country: str | None
    total_views: int = Field(description="Views over all songs (in the country, if given).")
    other_views: int = Field(
        description="Views of songs in no listed genre (0 unless some genres were cut off)."
    )
    items: list[GenreViews]


class PlaysBucket(OutputModel):
    start: datetime = Field(description="Start of the calendar day, week (Monday) or month, UTC.")
    plays: int


class PlaysHistogram(Freshness):
    interval: Interval
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    country: str | None
    song: str | None
    total: int
    buckets: list[PlaysBucket] = Field(
        description="Every bucket from `from` to `to`, empty ones with 0 plays. The first "
        "bucket starts at its calendar boundary, which may be before `from`."
    )


def body_of(model: OutputModel) -> bytes:
    """The JSON bytes a response model is cached and served as (aliases applied)."""
    return model.model_dump_json(by_alias=True).encode()
