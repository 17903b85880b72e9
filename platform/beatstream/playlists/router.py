"""Thin HTTP layer for playlists. A playlist belongs to the listener it was created under."""

from __future__ import annotations

import re
from typing import Annotated, Any

from beanie import PydanticObjectId
from fastapi import APIRouter, Path, Query, Response, status
from starlette.types import Scope

from beatstream.auth.dependencies import AUTH_RESPONSES, OptionalPrincipal
from beatstream.cache.dependencies import HotReadsDep, IfNoneMatch
from beatstream.cache.http import etag_matches
from beatstream.common.concurrency import ExpectedBaseVersion, set_etag
from beatstream.common.pagination import Page, PageQuery
from beatstream.fastpath import FastAnswer, header
from beatstream.listeners.dependencies import OwnedListener
from beatstream.playlists import service
from beatstream.playlists.dependencies import OwnedPlaylist, PlaylistId
from beatstream.playlists.documents import MAX_SONGS
from beatstream.playlists.schemas import (
    PlaylistCreate,
    PlaylistOut,
    PlaylistUpdate,
    PlaylistWithSongs,
    SongMove,
    SongsAdd,
)
from beatstream.state import scope_state

router = APIRouter(tags=["playlists"])
IF_MATCH_DOC: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match named a version that is no longer current"}
}
OWNER_DOC: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    404: {"description": "No such listener, or not the token's own (unless admin)"},
}
READ_DOC: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match ETag is current"},
    **AUTH_RESPONSES,
    404: {"description": "No such playlist, or a private one that is not the token's"},
}
WRITE_DOC: dict[int | str, dict[str, Any]] = {
    **IF_MATCH_DOC,
    **AUTH_RESPONSES,
    403: {"description": "Someone else's public playlist"},
    404: {"description": "No such playlist, or someone else's private one"},
}


def _out(playlist: Any, response: Response) -> PlaylistOut:
    set_etag(response, playlist.version)
    return PlaylistOut.model_validate(playlist)


@router.post(
    "/listeners/{listener_id}/playlists", status_code=status.HTTP_201_CREATED, responses=OWNER_DOC
)
async def create_playlist(
    listener: OwnedListener, data: PlaylistCreate, response: Response
) -> PlaylistOut:
    assert listener.id is not None
    playlist = await service.create_playlist(listener.id, data)
    response.headers["Location"] = f"/v1/playlists/{playlist.id}"
    return _out(playlist, response)


@router.get("/listeners/{listener_id}/playlists", responses=OWNER_DOC)
async def list_playlists(
    listener: OwnedListener, query: Annotated[PageQuery, Query()]
) -> Page[PlaylistOut]:
    assert listener.id is not None
    playlists, next_cursor = await service.list_owner_playlists(
        listener.id, query.limit, query.cursor
    )
    return Page[PlaylistOut](
        items=[PlaylistOut.model_validate(p) for p in playlists], next_cursor=next_cursor
    )


@router.get(
    "/playlists/{playlist_id}",
    summary="A playlist with its songs, in one round trip",
    response_model=PlaylistWithSongs,
    responses=READ_DOC,
)
async def get_playlist(
    playlist_id: PlaylistId,
    principal: OptionalPrincipal,
    reads: HotReadsDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Public playlists to anyone, anonymous included; private ones to the owner and admins.

    The ETag is the representation's, `"<playlist version>-<digest of its songs' ids
    and versions>"`: it changes when an embedded song does. A write's `If-Match` may
    send it back; only its playlist-version part is compared (docs/catalog.md)."""
    # Validated once and serialised once: returned as bytes, FastAPI does not redo either.
    # The 304 comes after the read, so a private playlist is still a 404 to others.
    answer = await service.read_answer(playlist_id, principal, reads)
    headers = {"ETag": answer.etag}
    if etag_matches(if_none_match, answer.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)


async def fast_get_playlist(match: re.Match[str], scope: Scope) -> FastAnswer | None:
    """`GET /v1/playlists/{playlist_id}` answered before routing when the playlist is
    kept (only public ones are) and the request is anonymous: a request carrying a
    credential takes the route, which checks it (a bad token is still a 401)."""
    reads = scope_state(scope).get("hot_reads")
    if reads is None or any(name in CREDENTIALS for name, _ in scope["headers"]):
        return None
    answer = await service.kept_public_answer(PydanticObjectId(match[1]), reads)
    if answer is None:
        return None
    tag = answer.etag.encode()
    if_none_match = header(scope, b"if-none-match")
    if if_none_match is not None and etag_matches(if_none_match.decode("latin-1"), answer.etag):
        return FastAnswer(304, [(b"etag", tag)])
    return FastAnswer(200, [(b"content-type", b"application/json"), (b"etag", tag)], answer.body)


CREDENTIALS = frozenset({b"authorization", b"x-api-key", b"cookie"})
FAST_PLAYLIST = (r"/v1/playlists/([0-9a-fA-F]{24})", fast_get_playlist)


@router.patch("/playlists/{playlist_id}", responses=WRITE_DOC)
async def update_playlist(
    playlist: OwnedPlaylist,
    data: PlaylistUpdate,
    expected: ExpectedBaseVersion,
    response: Response,
    reads: HotReadsDep,
) -> PlaylistOut:
    return _out(await service.update_playlist(playlist, data, expected, reads=reads), response)


@router.delete("/playlists/{playlist_id}", status_code=204, responses=WRITE_DOC)
async def delete_playlist(
    playlist: OwnedPlaylist, expected: ExpectedBaseVersion, reads: HotReadsDep
) -> None:
    await service.delete_playlist(playlist, expected, reads=reads)


@router.post("/playlists/{playlist_id}/songs", responses=WRITE_DOC)
async def add_songs(
    playlist: OwnedPlaylist,
    data: SongsAdd,
    expected: ExpectedBaseVersion,
    response: Response,
    reads: HotReadsDep,
) -> PlaylistOut:
    return _out(await service.add_songs(playlist, data, expected, reads=reads), response)


@router.delete("/playlists/{playlist_id}/songs/{position}", responses=WRITE_DOC)
async def remove_song(
    playlist: OwnedPlaylist,
    position: Annotated[int, Path(ge=0, le=MAX_SONGS)],
    expected: ExpectedBaseVersion,
    response: Response,
    reads: HotReadsDep,
) -> PlaylistOut:
    return _out(await service.remove_song(playlist, position, expected, reads=reads), response)


@router.post("/playlists/{playlist_id}/songs/move", responses=WRITE_DOC)
async def move_song(
    playlist: OwnedPlaylist,
    move: SongMove,
    expected: ExpectedBaseVersion,
    response: Response,
    reads: HotReadsDep,
) -> PlaylistOut:
    return _out(await service.move_song(playlist, move, expected, reads=reads), response)
