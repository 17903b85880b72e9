"""Path-parameter dependencies for playlists."""

from __future__ import annotations

from typing import Annotated

from beanie import PydanticObjectId
from fastapi import Depends, Path

from beatstream.playlists import repository
from beatstream.playlists.documents import Playlist
from beatstream.playlists.service import playlist_not_found

PlaylistId = Annotated[PydanticObjectId, Path(description="The playlist's id (24 hex digits).")]


async def valid_playlist_id(playlist_id: PlaylistId) -> Playlist:
    playlist = await repository.get_playlist(playlist_id)
    if playlist is None:
        raise playlist_not_found(playlist_id)
    return playlist


ValidPlaylist = Annotated[Playlist, Depends(valid_playlist_id)]
