"""Every MongoDB query for playlists, including the one-round-trip read with its songs."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from beatstream.catalog.documents import Song
from beatstream.common.documents import utcnow
from beatstream.common.pagination import SortSpec
from beatstream.common.repository import keyset_rows, versioned_delete, versioned_update
from beatstream.errors import ConflictError, PreconditionFailedError
from beatstream.playlists.documents import MAX_SONGS, Playlist

NEWEST_FIRST = SortSpec("-created_at", "created_at", descending=True)


async def insert_playlist(playlist: Playlist) -> Playlist:
    return await playlist.insert()


async def get_playlist(playlist_id: PydanticObjectId) -> Playlist | None:
    return await Playlist.get(playlist_id)


async def list_owner_playlists(
    owner_id: PydanticObjectId, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    return await keyset_rows(Playlist, {"owner_id": owner_id}, NEWEST_FIRST, limit, cursor)


async def get_playlist_with_songs(
    playlist_id: PydanticObjectId,
) -> tuple[dict[str, Any], dict[PydanticObjectId, dict[str, Any]]] | None:
    """The playlist and the songs it references, in ONE aggregate (one round trip).

    `$lookup` joins on the songs' `_id` index; the playlist's order (and duplicates) is
    restored from `song_ids` by the caller, since `$lookup` returns matches unordered.
    """
    cursor = await Playlist.get_pymongo_collection().aggregate(
        [
            {"$match": {"_id": playlist_id}},
            {
                "$lookup": {
                    "from": Song.get_collection_name(),
                    "localField": "song_ids",
                    "foreignField": "_id",
                    "as": "resolved",
                }
            },
        ]
    )
    rows = await cursor.to_list(1)
    if not rows:
        return None
    playlist = rows[0]
    songs = {song["_id"]: song for song in playlist.pop("resolved")}
    return playlist, songs


async def update_playlist(
    playlist_id: PydanticObjectId, changes: dict[str, Any], expected: int | None
) -> Playlist | None:
    return await versioned_update(Playlist, playlist_id, changes, expected)


async def delete_playlist(playlist_id: PydanticObjectId, expected: int | None) -> bool:
    return await versioned_delete(Playlist, playlist_id, expected)


async def existing_song_ids(song_ids: list[PydanticObjectId]) -> set[PydanticObjectId]:
    """Which of these songs exist: one `$in` query on `_id`, whatever the count."""
    rows = Song.get_pymongo_collection().find({"_id": {"$in": song_ids}}, {"_id": 1})
    return {row["_id"] async for row in rows}


async def push_songs(
    playlist_id: PydanticObjectId,
    song_ids: list[PydanticObjectId],
    position: int | None,
    expected: int | None,
) -> Playlist | None:
    """Insert songs with one atomic `$push`, so concurrent adds never overwrite each other.

    The filter also keeps the playlist under `MAX_SONGS` (there must be no element at
    index `MAX_SONGS - len(song_ids)`) and, with `expected`, at that version. None if
    the playlist does not exist; 412 or 409 when it exists but a condition failed.
    """
    query: dict[str, Any] = {
        "_id": playlist_id,
        f"song_ids.{MAX_SONGS - len(song_ids)}": {"$exists": False},
    }
    if expected is not None:
        query["version"] = expected
    push: dict[str, Any] = {"$each": song_ids}
    if position is not None:
        push["$position"] = position
    raw = await Playlist.get_pymongo_collection().find_one_and_update(
        query,
        {"$push": {"song_ids": push}, "$set": {"updated_at": utcnow()}, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if raw is not None:
        playlist: Playlist = Playlist.model_validate(raw)
        return playlist
    current = await Playlist.get(playlist_id)
    if current is None:
        return None
    if expected is not None and current.version != expected:
        raise PreconditionFailedError(f"version {expected} is not current")
    raise ConflictError(f"a playlist holds at most {MAX_SONGS} songs")
