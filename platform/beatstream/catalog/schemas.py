"""Request and response models for artists, songs and albums (under /v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from beanie import PydanticObjectId
from pydantic import ConfigDict, Field, NonNegativeInt

from beatstream.common.countries import CountryCode
from beatstream.common.inputs import DocumentId, InputModel, OutputModel, PatchModel
from beatstream.common.pagination import PageQuery

Name = Annotated[str, Field(min_length=1, max_length=200)]
Genre = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9 &'/-]{0,39}$", examples=["pop"])]
ReleaseYear = Annotated[int, Field(ge=1900, le=2100, examples=[2014])]
DurationS = Annotated[int, Field(ge=1, le=24 * 3600, examples=[270])]
ViewsPerCountry = Annotated[
    dict[CountryCode, NonNegativeInt], Field(max_length=250, examples=[{"US": 5, "IT": 3}])
]

SongSort = Literal["-created_at", "created_at", "-release_year", "release_year", "title", "-title"]
ArtistSort = Literal["-created_at", "created_at", "name", "-name"]


class AlbumIn(InputModel):
    title: Name
    release_year: ReleaseYear


class AlbumOut(OutputModel):
    title: str
    release_year: int


class ArtistCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Adele", "country": "GB", "genres": ["pop", "soul"]}]
        }
    )

    name: Name
    country: CountryCode
    genres: list[Genre] = Field(default_factory=list, max_length=20)


class ArtistUpdate(PatchModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Adele Adkins"}]})

    name: Name | None = None
    country: CountryCode | None = None
    genres: list[Genre] | None = Field(default=None, max_length=20)


class ArtistOut(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6650f1c2a1b2c3d4e5f60718",
                    "name": "Adele",
                    "country": "GB",
                    "genres": ["pop", "soul"],
                    "created_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-01-05T10:00:00Z",
                    "version": 1,
                }
            ]
        }
    )

    id: DocumentId
    name: str
    country: str
    genres: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


class ArtistRefOut(OutputModel):
    id: PydanticObjectId
    name: str


class SongCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Uptown Funk",
                    "artist_id": "6650f1c2a1b2c3d4e5f60718",
                    "genre": "funk",
                    "duration_s": 270,
                    "album": {"title": "Uptown Special", "release_year": 2014},
                    "views_per_country": {"US": 5, "IT": 3},
                }
            ]
        }
    )

    title: Name
    artist_id: PydanticObjectId
    genre: Genre
    duration_s: DurationS
    album: AlbumIn
    views_per_country: ViewsPerCountry = Field(default_factory=dict)


class SongUpdate(PatchModel):
    """Only the fields given change; `views_per_country` replaces the whole mapping."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"genre": "soul"}]})

    title: Name | None = None
    artist_id: PydanticObjectId | None = None
    genre: Genre | None = None
    duration_s: DurationS | None = None
    album: AlbumIn | None = None
    views_per_country: ViewsPerCountry | None = None


class SongOut(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6650f1c2a1b2c3d4e5f60719",
                    "title": "Uptown Funk",
                    "artist": {
                        "id": "6650f1c2a1b2c3d4e5f60718",
                        "name": "Mark Ronson ft. Bruno Mars",
                    },
                    "genre": "funk",
                    "duration_s": 270,
                    "album": {"title": "Uptown Special", "release_year": 2014},
                    "views_per_country": {"US": 5, "IT": 3},
                    "created_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-01-05T10:00:00Z",
                    "version": 1,
                }
            ]
        }
    )

    id: DocumentId
    title: str
    artist: ArtistRefOut
    genre: str
    duration_s: int
    album: AlbumOut
    views_per_country: dict[str, int]
    created_at: datetime
    updated_at: datetime
    version: int


class AlbumSummary(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "NjY1MGYxYzJ8VXB0b3duIFNwZWNpYWx8MjAxNA",
                    "title": "Uptown Special",
                    "release_year": 2014,
                    "artist": {"id": "6650f1c2a1b2c3d4e5f60718", "name": "Mark Ronson"},
                    "track_count": 11,
                }
            ]
        }
    )

    id: str = Field(description="Opaque album id: the artist, title and year it groups by.")
    title: str
    release_year: int
    artist: ArtistRefOut
    track_count: int


class AlbumDetail(AlbumSummary):
    tracks: list[SongOut]


class SongSearchResult(OutputModel):
    items: list[SongOut]
    strategy: Literal["text_index", "regex_fallback"] = Field(
        description="text_index: MongoDB's $text; regex_fallback: the server has no text search."
    )


# Query strings


class SongListQuery(PageQuery):
    genre: Genre | None = None
    artist_id: PydanticObjectId | None = None
    year_from: ReleaseYear | None = None
    year_to: ReleaseYear | None = None
    country: CountryCode | None = Field(default=None, description="Only songs with views there.")
    sort: SongSort = "-created_at"


class ArtistListQuery(PageQuery):
    sort: ArtistSort = "-created_at"


class AlbumListQuery(PageQuery):
    artist_id: PydanticObjectId | None = None


class ArtistSongsQuery(PageQuery):
    sort: SongSort = "-created_at"
