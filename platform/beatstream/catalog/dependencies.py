"""Path-parameter dependencies: a malformed id is a 422, a well-formed unknown one a 404."""

from __future__ import annotations

from typing import Annotated

from beanie import PydanticObjectId
from fastapi import Depends, Path

from beatstream.catalog import service
from beatstream.catalog.documents import Artist, Song

SongId = Annotated[PydanticObjectId, Path(description="The song's id (24 hex digits).")]
ArtistId = Annotated[PydanticObjectId, Path(description="The artist's id (24 hex digits).")]


async def valid_song_id(song_id: SongId) -> Song:
    return await service.get_song(song_id)


async def valid_artist_id(artist_id: ArtistId) -> Artist:
    return await service.get_artist(artist_id)


ValidSong = Annotated[Song, Depends(valid_song_id)]
ValidArtist = Annotated[Artist, Depends(valid_artist_id)]
