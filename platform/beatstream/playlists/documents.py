"""Playlists reference songs by id, in order; a song may sit in many playlists.

References are a plain ordered array of song ids, not Beanie `Link`s: a `Link` is
stored as a DBRef and resolved by `$lookup` through `songs.$id`, which the local
MongoDB stand-in cannot follow and which Beanie's `fetch_links` handles with known
bugs (count, delete, aggregate, pagination). A plain array is the same referenced
relation, resolved in one indexed `$lookup` (`localField` -> `_id`) by any server.
"""

from __future__ import annotations

from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from beatstream.common.documents import VersionedDocument

MAX_SONGS = 5_000


class Visibility(StrEnum):
    private = "private"
    public = "public"


class Playlist(VersionedDocument):
    owner_id: PydanticObjectId
    name: str
    visibility: Visibility = Visibility.private
    song_ids: list[PydanticObjectId] = Field(default_factory=list)

    class Settings:
        name = "playlists"
        indexes = [
            IndexModel(
                [("owner_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="owner_created_id",
            ),
            # "Which playlists hold this song" (e.g. when a song is deleted).
            IndexModel([("song_ids", ASCENDING)], name="song_ids"),
        ]
