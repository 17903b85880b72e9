"""Request and response models for full-text search and typeahead."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from beatstream.catalog.schemas import AlbumOut, ArtistRefOut, DurationS, Genre, ReleaseYear
from beatstream.common.countries import CountryCode
from beatstream.common.inputs import InputModel, OutputModel
from beatstream.common.pagination import Limit

MAX_QUERY_LENGTH = 512

# `relevance` ranks by score with `q` and by views without it (no score to rank by).
SearchSort = Literal["relevance", "views", "-views", "year", "-year"]


class SearchQuery(InputModel):
    q: (
        Annotated[str, Field(min_length=1, max_length=MAX_QUERY_LENGTH, examples=["uptwn funk"])]
        | None
    ) = None
    genre: Genre | None = None
    year_from: ReleaseYear | None = None
    year_to: ReleaseYear | None = None
    duration_min: DurationS | None = Field(default=None, description="Seconds, inclusive.")
    duration_max: DurationS | None = Field(default=None, description="Seconds, inclusive.")
    artist: (
        Annotated[
            str,
            Field(pattern=r"^[0-9a-fA-F]{24}$", examples=["6650f1c2a1b2c3d4e5f60718"]),
            AfterValidator(str.lower),
        ]
        | None
    ) = Field(default=None, description="Only this artist's songs (an artist id).")
    country: CountryCode | None = Field(default=None, description="Only songs with views there.")
    sort: SearchSort = Field(
        default="relevance",
        description="`views`/`year` ascending, `-views`/`-year` descending; `relevance` is "
        "by score with `q`, by views (most first) without it. Ties break on id.",
    )
    limit: Limit = 20
    cursor: str | None = Field(default=None, max_length=1024)

    @model_validator(mode="after")
    def _ranges_in_order(self) -> SearchQuery:
        if self.year_from and self.year_to and self.year_from > self.year_to:
            raise ValueError("year_from must not be after year_to")
        if self.duration_min and self.duration_max and self.duration_min > self.duration_max:
            raise ValueError("duration_min must not be above duration_max")
        return self


class SuggestQuery(InputModel):
    prefix: str = Field(min_length=1, max_length=100, examples=["upt"])
    limit: int = Field(default=5, ge=1, le=20)


class SearchHit(OutputModel):
    id: str
    title: str
    artist: ArtistRefOut
    genre: str
    album: AlbumOut
    duration_s: int | None
    views: int = Field(description="Views over every country.")
    score: float | None
    highlight: dict[str, list[str]] = Field(
        description="Matched fragments per field, terms wrapped in <em>."
    )


class GenreFacet(OutputModel):
    genre: str
    count: int


class DecadeFacet(OutputModel):
    decade: int = Field(examples=[2010])
    count: int


class Facets(OutputModel):
    genres: list[GenreFacet]
    decades: list[DecadeFacet]


class SearchResult(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "6650f1c2a1b2c3d4e5f60719",
                            "title": "Uptown Funk",
                            "artist": {"id": "6650f1c2a1b2c3d4e5f60718", "name": "Mark Ronson"},
                            "genre": "funk",
                            "album": {"title": "Uptown Special", "release_year": 2014},
                            "duration_s": 270,
                            "views": 1234,
                            "score": 7.1,
                            "highlight": {"title": ["<em>Uptown</em> <em>Funk</em>"]},
                        }
                    ],
                    "total": 1,
                    "total_is_exact": True,
                    "facets": {
                        "genres": [{"genre": "funk", "count": 1}],
                        "decades": [{"decade": 2010, "count": 1}],
                    },
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[SearchHit]
    total: int
    total_is_exact: bool
    facets: Facets = Field(description="Counts over every match, not just this page.")
    next_cursor: str | None


class SongSuggestion(OutputModel):
    id: str
    title: str
    artist_name: str


class ArtistSuggestion(OutputModel):
    id: str
    name: str


class Suggestions(OutputModel):
    songs: list[SongSuggestion]
    artists: list[ArtistSuggestion]
