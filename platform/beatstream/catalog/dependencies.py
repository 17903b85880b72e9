"""Path-parameter dependencies: a malformed id is a 422, a well-formed unknown one a 404."""

from __future__ import annotations

from typing import Annotated

from beanie import PydanticObjectId
from fastapi import Depends, Path

from beatstream.catalog import repository
from beatstream.catalog.documents import Artist, Song
from beatstream.catalog.service import artist_not_found, song_not_found

SongId = Annotated[PydanticObjectId, Path(description="The song's id (24 hex digits).")]
ArtistId = Annotated[PydanticObjectId, Path(description="The artist's id (24 hex digits).")]


async def valid_song_id(song_id: SongId) -> Song:
    song = await repository.get_song(song_id)
    if song is None:
        raise song_not_found(song_id)
    return song


async def valid_artist_id(artist_id: ArtistId) -> Artist:
    artist = await repository.get_artist(artist_id)
    if artist is None:
        raise artist_not_found(artist_id)
    return artist


ValidSong = Annotated[Song, Depends(valid_song_id)]
ValidArtist = Annotated[Artist, Depends(valid_artist_id)]
