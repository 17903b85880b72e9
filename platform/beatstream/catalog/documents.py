"""Artists and songs. A song embeds its album (it changes rarely and is always read with
the song) and a denormalised copy of its artist's name (clients and search need it)."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, TEXT, IndexModel

from beatstream.common.documents import VersionedDocument, utcnow


class Artist(VersionedDocument):
    name: str
    country: str
    genres: list[str] = Field(default_factory=list)

    class Settings:
        name = "artists"
        indexes = [
            IndexModel([("name", ASCENDING), ("_id", ASCENDING)], name="name_id"),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="created_id"),
        ]


class Album(BaseModel):
    title: str
    release_year: int


class ArtistRef(BaseModel):
    id: PydanticObjectId
    name: str


class Song(VersionedDocument):
    title: str
    artist: ArtistRef
    genre: str
    duration_s: int
    album: Album
    views_per_country: dict[str, int] = Field(default_factory=dict)

    class Settings:
        name = "songs"
        indexes = [
            # The reference design's two indexes, by their purpose.
            IndexModel([("album.release_year", DESCENDING)], name="album_release_year_desc"),
            IndexModel([("artist.name", TEXT), ("title", TEXT)], name="text_artist_title"),
            # List pages: each filter leads, the keyset sort (field, _id) follows.
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="created_id"),
            # The polling sync's watermark: changes in (updated_at, _id) order.
            IndexModel([("updated_at", ASCENDING), ("_id", ASCENDING)], name="updated_id"),
            IndexModel(
                [("genre", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="genre_created_id",
            ),
            IndexModel(
                [("genre", ASCENDING), ("album.release_year", DESCENDING), ("_id", DESCENDING)],
                name="genre_year_id",
            ),
            IndexModel(
                [("artist.id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="artist_created_id",
            ),
            IndexModel([("album.release_year", DESCENDING), ("_id", DESCENDING)], name="year_id"),
            IndexModel([("title", ASCENDING), ("_id", ASCENDING)], name="title_id"),
            # Albums are derived by grouping on the embedded album.
            IndexModel(
                [
                    ("artist.id", ASCENDING),
                    ("album.title", ASCENDING),
                    ("album.release_year", ASCENDING),
                ],
                name="artist_album",
            ),
            # "Has views in country X" for any X without one index per country.
            IndexModel([("views_per_country.$**", ASCENDING)], name="views_wildcard"),
        ]


class SongTombstone(Document):
    """A deleted song, for sync paths that cannot see deletes (polling without change streams).

    `version` is one past the song's last version, so the search index applies the
    delete over any older write and refuses any older write replayed after it.
    """

    song_id: PydanticObjectId
    version: int
    deleted_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "song_tombstones"
        indexes = [
            IndexModel([("deleted_at", ASCENDING), ("_id", ASCENDING)], name="deleted_id"),
            IndexModel([("song_id", ASCENDING)], name="song_id"),
        ]
