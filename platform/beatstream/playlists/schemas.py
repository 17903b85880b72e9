"""Request and response models for playlists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from beanie import PydanticObjectId
from pydantic import ConfigDict, Field

from beatstream.catalog.schemas import SongOut
from beatstream.common.inputs import DocumentId, InputModel, OutputModel, PatchModel
from beatstream.playlists.documents import MAX_SONGS, Visibility

PlaylistName = Annotated[str, Field(min_length=1, max_length=200, examples=["Road trip"])]
Position = Annotated[int, Field(ge=0, le=MAX_SONGS, description="0-based position.")]


class PlaylistCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Road trip", "visibility": "private"}]}
    )

    name: PlaylistName
    visibility: Visibility = Visibility.private


class PlaylistUpdate(PatchModel):
    """Rename or change visibility; songs change through the `/songs` endpoints."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Summer 2026"}]})

    name: PlaylistName | None = None
    visibility: Visibility | None = None


class SongsAdd(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"song_ids": ["6650f1c2a1b2c3d4e5f60719"], "position": 0}]}
    )

    song_ids: list[PydanticObjectId] = Field(min_length=1, max_length=100)
    position: Position | None = Field(default=None, description="Insert here; default: append.")


class SongMove(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"from_position": 3, "to_position": 0}]}
    )

    from_position: Position
    to_position: Position


class PlaylistOut(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6650f1c2a1b2c3d4e5f60720",
                    "owner_id": "6650f1c2a1b2c3d4e5f60721",
                    "name": "Road trip",
                    "visibility": "private",
                    "song_ids": ["6650f1c2a1b2c3d4e5f60719"],
                    "created_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-01-05T10:00:00Z",
                    "version": 2,
                }
            ]
        }
    )

    id: DocumentId
    owner_id: PydanticObjectId
    name: str
    visibility: Visibility
    song_ids: list[PydanticObjectId]
    created_at: datetime
    updated_at: datetime
    version: int


class PlaylistEntry(OutputModel):
    position: int
    song: SongOut


class MissingEntry(OutputModel):
    position: int
    song_id: PydanticObjectId


class PlaylistWithSongs(OutputModel):
    """The playlist in its own order; songs deleted since they were added are listed apart."""

    id: DocumentId
    owner_id: PydanticObjectId
    name: str
    visibility: Visibility
    songs: list[PlaylistEntry]
    missing: list[MissingEntry] = Field(
        description="Entries whose song no longer exists; the playlist stays readable."
    )
    created_at: datetime
    updated_at: datetime
    version: int
