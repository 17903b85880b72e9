"""Path-parameter dependencies for playlists: found, and the caller's to change."""

from __future__ import annotations

from typing import Annotated

from beanie import PydanticObjectId
from fastapi import Depends, Path

from beatstream.auth.dependencies import CurrentPrincipal
from beatstream.playlists import service
from beatstream.playlists.documents import Playlist

PlaylistId = Annotated[PydanticObjectId, Path(description="The playlist's id (24 hex digits).")]


async def valid_playlist_id(playlist_id: PlaylistId) -> Playlist:
    return await service.get_playlist(playlist_id)


async def owned_playlist(playlist_id: PlaylistId, principal: CurrentPrincipal) -> Playlist:
    """A playlist its owner (or an admin) may change; see `service.require_editable`."""
    playlist = await valid_playlist_id(playlist_id)
    service.require_editable(playlist, principal)
    return playlist


OwnedPlaylist = Annotated[Playlist, Depends(owned_playlist)]
