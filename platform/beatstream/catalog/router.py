"""Thin HTTP layer for artists, songs and albums: parse, call the service, shape the answer."""

from __future__ import annotations

import re
from typing import Annotated, Any

from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import Field
from starlette.types import Scope

from beatstream.auth.dependencies import ROLE_RESPONSES, require_editor
from beatstream.cache.dependencies import HotReadsDep
from beatstream.catalog import service
from beatstream.catalog.dependencies import SongId, ValidArtist, ValidSong
from beatstream.catalog.schemas import (
    AlbumDetail,
    AlbumListQuery,
    AlbumSummary,
    ArtistCreate,
    ArtistListQuery,
    ArtistOut,
    ArtistSongsQuery,
    ArtistUpdate,
    SongCreate,
    SongListQuery,
    SongOut,
    SongSearchResult,
    SongUpdate,
)
from beatstream.common.concurrency import (
    ExpectedVersion,
    etag,
    matches_if_none_match,
    set_etag,
)
from beatstream.common.pagination import DEFAULT_LIMIT, Limit, Page
from beatstream.deps import CapabilitiesDep
from beatstream.fastpath import FastAnswer, header
from beatstream.state import scope_state

router = APIRouter()

IF_MATCH_DOC: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match named a version that is no longer current"},
    **ROLE_RESPONSES,
}
# Reads are open to anyone (no token needed); every write needs an editor or admin.
EDITORS = [Depends(require_editor)]


def _song_page(songs: list[dict[str, Any]], next_cursor: str | None) -> Page[SongOut]:
    return Page[SongOut](items=[SongOut.model_validate(s) for s in songs], next_cursor=next_cursor)


# Artists


@router.post(
    "/artists",
    status_code=status.HTTP_201_CREATED,
    tags=["artists"],
    dependencies=EDITORS,
    responses=ROLE_RESPONSES,
)
async def create_artist(data: ArtistCreate, response: Response) -> ArtistOut:
    artist = await service.create_artist(data)
    response.headers["Location"] = f"/v1/artists/{artist.id}"
    set_etag(response, artist.version)
    return ArtistOut.model_validate(artist)


@router.get("/artists", tags=["artists"])
async def list_artists(query: Annotated[ArtistListQuery, Query()]) -> Page[ArtistOut]:
    artists, next_cursor = await service.list_artists(query.sort, query.limit, query.cursor)
    return Page[ArtistOut](
        items=[ArtistOut.model_validate(a) for a in artists], next_cursor=next_cursor
    )


@router.get("/artists/{artist_id}", tags=["artists"])
async def get_artist(artist: ValidArtist, response: Response) -> ArtistOut:
    set_etag(response, artist.version)
    return ArtistOut.model_validate(artist)


@router.patch(
    "/artists/{artist_id}", tags=["artists"], dependencies=EDITORS, responses=IF_MATCH_DOC
)
async def update_artist(
    artist: ValidArtist,
    data: ArtistUpdate,
    expected: ExpectedVersion,
    response: Response,
    reads: HotReadsDep,
) -> ArtistOut:
    updated = await service.update_artist(artist, data, expected, reads=reads)
    set_etag(response, updated.version)
    return ArtistOut.model_validate(updated)


@router.delete(
    "/artists/{artist_id}",
    status_code=204,
    tags=["artists"],
    dependencies=EDITORS,
    responses=IF_MATCH_DOC,
)
async def delete_artist(artist: ValidArtist, expected: ExpectedVersion) -> None:
    await service.delete_artist(artist, expected)


@router.get("/artists/{artist_id}/songs", tags=["artists"])
async def artist_songs(
    artist: ValidArtist, query: Annotated[ArtistSongsQuery, Query()]
) -> Page[SongOut]:
    songs, next_cursor = await service.artist_songs(artist, query.sort, query.limit, query.cursor)
    return _song_page(songs, next_cursor)


# Songs (static paths before `/songs/{song_id}`)


@router.post(
    "/songs",
    status_code=status.HTTP_201_CREATED,
    tags=["songs"],
    dependencies=EDITORS,
    responses=ROLE_RESPONSES,
)
async def create_song(data: SongCreate, response: Response) -> SongOut:
    song = await service.create_song(data)
    response.headers["Location"] = f"/v1/songs/{song.id}"
    set_etag(response, song.version)
    return SongOut.model_validate(song)


@router.get("/songs", tags=["songs"])
async def list_songs(query: Annotated[SongListQuery, Query()]) -> Page[SongOut]:
    songs, next_cursor = await service.list_songs(query)
    return _song_page(songs, next_cursor)


@router.get(
    "/songs/by-year/{year}",
    tags=["songs"],
    summary="Songs released in a year (the release-year index)",
)
async def songs_by_year(
    year: Annotated[int, Field(ge=1900, le=2100)], limit: Annotated[Limit, Query()] = DEFAULT_LIMIT
) -> list[SongOut]:
    return [SongOut.model_validate(s) for s in await service.songs_by_year(year, limit)]


@router.get(
    "/songs/by-artist",
    tags=["songs"],
    summary="Full-text search on artist name and title (the text index)",
)
async def songs_by_artist(
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["mars"])],
    capabilities: CapabilitiesDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
) -> SongSearchResult:
    songs, strategy = await service.search_songs_by_artist(
        q, limit, text_search=capabilities.text_search
    )
    return SongSearchResult(items=[SongOut.model_validate(s) for s in songs], strategy=strategy)


@router.get(
    "/songs/{song_id}",
    tags=["songs"],
    response_model=SongOut,
    responses={304: {"description": "Not modified: the If-None-Match ETag is current"}},
)
async def get_song(
    song_id: SongId, reads: HotReadsDep, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """The hottest read: the stored row validated into `SongOut` once and serialised
    once (returned as bytes, so FastAPI does not validate it again), kept per process
    while no write has bumped the catalogue (docs/catalog.md, "Hot reads")."""
    song = await service.read_song(song_id, reads)
    headers = {"ETag": etag(song.version)}
    if matches_if_none_match(if_none_match, song.version):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(song.body, media_type="application/json", headers=headers)


async def fast_get_song(match: re.Match[str], scope: Scope) -> FastAnswer | None:
    """`GET /v1/songs/{song_id}` answered before routing when the song is kept
    (beatstream.fastpath): the same body, ETag and 304 as `get_song`. Songs are open
    to anyone, so credentials do not matter here (the route ignores them too)."""
    reads = scope_state(scope).get("hot_reads")
    if reads is None:
        return None
    song = await service.kept_song(PydanticObjectId(match[1]), reads)
    if song is None:
        return None
    tag = etag(song.version).encode()
    if_none_match = header(scope, b"if-none-match")
    if if_none_match is not None and matches_if_none_match(
        if_none_match.decode("latin-1"), song.version
    ):
        return FastAnswer(304, [(b"etag", tag)])
    return FastAnswer(200, [(b"content-type", b"application/json"), (b"etag", tag)], song.body)


FAST_SONG = (r"/v1/songs/([0-9a-fA-F]{24})", fast_get_song)


@router.patch("/songs/{song_id}", tags=["songs"], dependencies=EDITORS, responses=IF_MATCH_DOC)
async def update_song(
    song: ValidSong,
    data: SongUpdate,
    expected: ExpectedVersion,
    response: Response,
    reads: HotReadsDep,
) -> SongOut:
    updated = await service.update_song(song, data, expected, reads=reads)
    set_etag(response, updated.version)
    return SongOut.model_validate(updated)


@router.delete(
    "/songs/{song_id}",
    status_code=204,
    tags=["songs"],
    dependencies=EDITORS,
    responses=IF_MATCH_DOC,
)
async def delete_song(song: ValidSong, expected: ExpectedVersion, reads: HotReadsDep) -> None:
    await service.delete_song(song, expected, reads=reads)


# Albums


@router.get("/albums", tags=["albums"])
async def list_albums(query: Annotated[AlbumListQuery, Query()]) -> Page[AlbumSummary]:
    albums, next_cursor = await service.list_albums(query.artist_id, query.limit, query.cursor)
    return Page[AlbumSummary](
        items=[AlbumSummary.model_validate(a) for a in albums], next_cursor=next_cursor
    )


@router.get("/albums/{album_id}", tags=["albums"])
async def get_album(album_id: Annotated[str, Field(max_length=512)]) -> AlbumDetail:
    summary, tracks = await service.album_detail(album_id)
    return AlbumDetail(**summary, tracks=[SongOut.model_validate(t) for t in tracks])
