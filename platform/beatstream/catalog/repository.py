"""Every MongoDB query of the catalogue: artists, songs and the albums derived from songs."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId, SortDirection
from pymongo.asynchronous.collection import AsyncCollection

from beatstream.catalog.documents import Artist, Song, SongTombstone
from beatstream.common.documents import utcnow
from beatstream.common.pagination import SortSpec
from beatstream.common.repository import (
    deleted_version,
    explain_find,
    keyset_rows,
    versioned_delete,
    versioned_update,
)
from beatstream.errors import InvalidInputError, Location

ASC, DESC = SortDirection.ASCENDING, SortDirection.DESCENDING
Row = dict[str, Any]
"""A raw MongoDB document: list endpoints validate these straight into response models."""


def _songs() -> AsyncCollection[Row]:
    return Song.get_pymongo_collection()


SONG_SORTS = {
    "-created_at": SortSpec("-created_at", "created_at", descending=True),
    "created_at": SortSpec("created_at", "created_at", descending=False),
    "-release_year": SortSpec("-release_year", "album.release_year", descending=True),
    "release_year": SortSpec("release_year", "album.release_year", descending=False),
    "title": SortSpec("title", "title", descending=False),
    "-title": SortSpec("-title", "title", descending=True),
}
ARTIST_SORTS = {
    "-created_at": SortSpec("-created_at", "created_at", descending=True),
    "created_at": SortSpec("created_at", "created_at", descending=False),
    "name": SortSpec("name", "name", descending=False),
    "-name": SortSpec("-name", "name", descending=True),
}


@dataclass(frozen=True, slots=True)
class SongFilters:
    """What a song list is narrowed by, as plain values: the repository knows no HTTP
    query model (the service builds this from one, see `service.song_filters`)."""

    genre: str | None = None
    artist_id: PydanticObjectId | None = None
    year_from: int | None = None
    year_to: int | None = None
    country: str | None = None

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.genre is not None:
            query["genre"] = self.genre
        if self.artist_id is not None:
            query["artist.id"] = self.artist_id
        years: dict[str, int] = {}
        if self.year_from is not None:
            years["$gte"] = self.year_from
        if self.year_to is not None:
            years["$lte"] = self.year_to
        if years:
            query["album.release_year"] = years
        if self.country is not None:  # a validated ISO code, never client text
            query[f"views_per_country.{self.country}"] = {"$gt": 0}
        return query


# Artists


async def insert_artist(artist: Artist) -> Artist:
    return await artist.insert()


async def get_artist(artist_id: PydanticObjectId) -> Artist | None:
    return await Artist.get(artist_id)


async def list_artists(sort: str, limit: int, cursor: str | None) -> tuple[list[Row], str | None]:
    return await keyset_rows(Artist, {}, ARTIST_SORTS[sort], limit, cursor)


async def update_artist(
    artist_id: PydanticObjectId, changes: dict[str, Any], expected: int | None
) -> Artist | None:
    return await versioned_update(Artist, artist_id, changes, expected)


async def delete_artist(artist_id: PydanticObjectId, expected: int | None) -> bool:
    return await versioned_delete(Artist, artist_id, expected)


async def artist_has_songs(artist_id: PydanticObjectId) -> bool:
    return await Song.find({"artist.id": artist_id}).limit(1).count() > 0


async def rename_artist_in_songs(artist_id: PydanticObjectId, name: str) -> int:
    """One `updateMany` for all of the artist's songs, not one write per song."""
    result = await Song.get_pymongo_collection().update_many(
        {"artist.id": artist_id, "artist.name": {"$ne": name}},
        {"$set": {"artist.name": name, "updated_at": utcnow()}, "$inc": {"version": 1}},
    )
    return int(result.modified_count)


# Songs


async def insert_song(song: Song) -> Song:
    return await song.insert()


async def get_song(song_id: PydanticObjectId) -> Song | None:
    return await Song.get(song_id)


async def get_song_row(song_id: PydanticObjectId) -> Row | None:
    """The song as stored, for a read that only answers it: the driver's dict goes
    straight into the response model, no document model built on the way."""
    return await Song.get_pymongo_collection().find_one({"_id": song_id})


async def list_songs(
    filters: SongFilters, sort: str, limit: int, cursor: str | None
) -> tuple[list[Row], str | None]:
    return await keyset_rows(Song, filters.query(), SONG_SORTS[sort], limit, cursor)


async def update_song(
    song_id: PydanticObjectId, changes: dict[str, Any], expected: int | None
) -> Song | None:
    return await versioned_update(Song, song_id, changes, expected)


async def delete_song(song_id: PydanticObjectId, expected: int | None) -> bool:
    """Delete, then leave a tombstone for the polling sync (see `SongTombstone`).

    A crash between the two leaves the song in the search index; `sync --check`
    reports it as unexpected and `--repair` removes it.
    """
    version = await deleted_version(Song, song_id, expected)
    if version is None:
        return False
    await SongTombstone(song_id=song_id, version=version + 1).insert()
    return True


BY_YEAR_SORT = [("album.release_year", DESC), ("_id", DESC)]


def _by_year(year: int) -> dict[str, Any]:
    return {"album.release_year": year}


def _text_search(text: str) -> dict[str, Any]:
    return {"$text": {"$search": text}}


async def songs_by_year(year: int, limit: int) -> list[Row]:
    """Served by the `album_release_year_desc` index (the reference design's year query)."""
    found = _songs().find(_by_year(year)).sort(BY_YEAR_SORT)
    rows: list[Row] = await found.limit(limit).to_list(limit)
    return rows


def _artist_name_match(text: str) -> dict[str, Any]:
    """Any word of `text` in the artist's name, case-insensitively (no text index needed)."""
    words = [re.escape(word) for word in text.split()]
    return {"artist.name": {"$regex": "|".join(words) or re.escape(text), "$options": "i"}}


async def search_songs_by_artist(
    text: str, limit: int, *, text_search: bool
) -> tuple[list[Row], str]:
    """MongoDB `$text` over artist name and title, best matches first.

    A server without text search (capability `text_search`; the local stand-in) gets a
    case-insensitive match on the artist's name instead, so the endpoint still answers;
    the result says which way it was found.
    """
    if text_search:
        cursor = (
            _songs()
            .find(_text_search(text), {"score": {"$meta": "textScore"}})
            .sort([("score", {"$meta": "textScore"}), ("_id", 1)])
            .limit(limit)
        )
        rows: list[Row] = await cursor.to_list(limit)
        return rows, "text_index"
    found = _songs().find(_artist_name_match(text))
    rows = await found.sort([("_id", ASC)]).limit(limit).to_list(limit)
    return rows, "regex_fallback"


# Albums (grouped from the songs that embed them)


def album_id(artist_id: PydanticObjectId, title: str, release_year: int) -> str:
    raw = f"{artist_id}|{release_year}|{title}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_album_id(
    value: str, field: str = "album_id", location: Location = "path"
) -> tuple[PydanticObjectId, str, int]:
    """`field` and `location` name the input the id came in (an album id doubles as the
    list cursor, in the query)."""
    try:
        raw = base64.urlsafe_b64decode((value + "=" * (-len(value) % 4)).encode()).decode()
        artist, year, title = raw.split("|", 2)
        return PydanticObjectId(artist), title, int(year)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            field, "not an album id this API issued", location=location
        ) from exc


async def list_albums(
    artist_id: PydanticObjectId | None, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Albums ordered by (title, year, artist), one `aggregate` per page."""
    pipeline: list[dict[str, Any]] = []
    if artist_id is not None:
        pipeline.append({"$match": {"artist.id": artist_id}})
    pipeline += [
        {
            "$group": {
                "_id": {"t": "$album.title", "y": "$album.release_year", "a": "$artist.id"},
                "artist_name": {"$first": "$artist.name"},
                "track_count": {"$sum": 1},
            }
        },
    ]
    if after is not None:
        a, t, y = parse_album_id(after, "cursor", "query")
        pipeline.append(
            {
                "$match": {
                    "$or": [
                        {"_id.t": {"$gt": t}},
                        {"_id.t": t, "_id.y": {"$gt": y}},
                        {"_id.t": t, "_id.y": y, "_id.a": {"$gt": a}},
                    ]
                }
            }
        )
    pipeline += [{"$sort": {"_id.t": 1, "_id.y": 1, "_id.a": 1}}, {"$limit": limit + 1}]
    cursor = await Song.get_pymongo_collection().aggregate(pipeline)
    rows = await cursor.to_list(limit + 1)
    albums = [
        {
            "id": album_id(row["_id"]["a"], row["_id"]["t"], row["_id"]["y"]),
            "title": row["_id"]["t"],
            "release_year": row["_id"]["y"],
            "artist": {"id": row["_id"]["a"], "name": row["artist_name"]},
            "track_count": row["track_count"],
        }
        for row in rows[:limit]
    ]
    next_cursor = albums[-1]["id"] if len(rows) > limit else None
    return albums, next_cursor


async def album_tracks(artist_id: PydanticObjectId, title: str, release_year: int) -> list[Row]:
    found = _songs().find(
        {"artist.id": artist_id, "album.title": title, "album.release_year": release_year}
    )
    rows: list[Row] = await found.sort([("created_at", ASC), ("_id", ASC)]).to_list(None)
    return rows


# Query plans, for the admin explain diagnostic: the same queries the endpoints run.


async def explain_song_list(filters: SongFilters, sort: str, limit: int) -> dict[str, Any]:
    return await explain_find(Song, filters.query(), SONG_SORTS[sort].mongo_sort, limit + 1)


async def explain_songs_by_year(year: int, limit: int) -> dict[str, Any]:
    return await explain_find(Song, _by_year(year), BY_YEAR_SORT, limit)


async def explain_song_search(text: str, limit: int, *, text_search: bool) -> dict[str, Any]:
    """The plan of the query `search_songs_by_artist` runs on this server."""
    query = _text_search(text) if text_search else _artist_name_match(text)
    return await explain_find(Song, query, [("_id", ASC)], limit)
