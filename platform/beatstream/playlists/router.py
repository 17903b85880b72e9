"""Thin HTTP layer for playlists. A playlist belongs to the listener it was created under."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from beatstream.common.concurrency import ExpectedVersion, set_etag
from beatstream.common.pagination import Page, PageQuery
from beatstream.listeners.dependencies import ValidListener
from beatstream.playlists import repository, service
from beatstream.playlists.dependencies import PlaylistId, ValidPlaylist
from beatstream.playlists.documents import MAX_SONGS
from beatstream.playlists.schemas import (
    PlaylistCreate,
    PlaylistOut,
    PlaylistUpdate,
    PlaylistWithSongs,
    SongMove,
    SongsAdd,
)

router = APIRouter(tags=["playlists"])
IF_MATCH_DOC: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match named a version that is no longer current"}
}


def _out(playlist: Any, response: Response) -> PlaylistOut:
    set_etag(response, playlist.version)
    return PlaylistOut.model_validate(playlist)


@router.post("/listeners/{listener_id}/playlists", status_code=status.HTTP_201_CREATED)
async def create_playlist(
    listener: ValidListener, data: PlaylistCreate, response: Response
) -> PlaylistOut:
    assert listener.id is not None
    playlist = await service.create_playlist(listener.id, data)
    response.headers["Location"] = f"/v1/playlists/{playlist.id}"
    return _out(playlist, response)


@router.get("/listeners/{listener_id}/playlists")
async def list_playlists(
    listener: ValidListener, query: Annotated[PageQuery, Query()]
) -> Page[PlaylistOut]:
    assert listener.id is not None
    playlists, next_cursor = await repository.list_owner_playlists(
        listener.id, query.limit, query.cursor
    )
    return Page[PlaylistOut](
        items=[PlaylistOut.model_validate(p) for p in playlists], next_cursor=next_cursor
    )


@router.get("/playlists/{playlist_id}", summary="A playlist with its songs, in one round trip")
async def get_playlist(playlist_id: PlaylistId, response: Response) -> PlaylistWithSongs:
    playlist = await service.read_with_songs(playlist_id)
    set_etag(response, playlist["version"])
    return PlaylistWithSongs.model_validate(playlist)


@router.patch("/playlists/{playlist_id}", responses=IF_MATCH_DOC)
async def update_playlist(
    playlist: ValidPlaylist, data: PlaylistUpdate, expected: ExpectedVersion, response: Response
) -> PlaylistOut:
    return _out(await service.update_playlist(playlist, data, expected), response)


@router.delete("/playlists/{playlist_id}", status_code=204, responses=IF_MATCH_DOC)
async def delete_playlist(playlist: ValidPlaylist, expected: ExpectedVersion) -> None:
    await service.delete_playlist(playlist, expected)


@router.post("/playlists/{playlist_id}/songs", responses=IF_MATCH_DOC)
async def add_songs(
    playlist: ValidPlaylist, data: SongsAdd, expected: ExpectedVersion, response: Response
) -> PlaylistOut:
    return _out(await service.add_songs(playlist, data, expected), response)


@router.delete("/playlists/{playlist_id}/songs/{position}", responses=IF_MATCH_DOC)
async def remove_song(
    playlist: ValidPlaylist,
    position: Annotated[int, Path(ge=0, le=MAX_SONGS)],
    expected: ExpectedVersion,
    response: Response,
) -> PlaylistOut:
    return _out(await service.remove_song(playlist, position, expected), response)


@router.post("/playlists/{playlist_id}/songs/move", responses=IF_MATCH_DOC)
async def move_song(
    playlist: ValidPlaylist, move: SongMove, expected: ExpectedVersion, response: Response
) -> PlaylistOut:
    return _out(await service.move_song(playlist, move, expected), response)
