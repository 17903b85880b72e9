"""Catalogue rules: songs point at real artists, renames reach every copy, no orphans."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.reads import HotReads
from beatstream.catalog import repository
from beatstream.catalog.documents import Album, Artist, ArtistRef, Song
from beatstream.catalog.repository import Row, SongFilters
from beatstream.catalog.schemas import (
    ArtistCreate,
    ArtistUpdate,
    SongCreate,
    SongListQuery,
    SongOut,
    SongUpdate,
)
from beatstream.errors import ConflictError, InvalidInputError, NotFoundError


def artist_not_found(artist_id: PydanticObjectId) -> NotFoundError:
    return NotFoundError(f"no artist with id {artist_id}")


def song_not_found(song_id: PydanticObjectId) -> NotFoundError:
    return NotFoundError(f"no song with id {song_id}")


async def get_artist(artist_id: PydanticObjectId) -> Artist:
    """The artist, or the 404 of an unknown id."""
    artist = await repository.get_artist(artist_id)
    if artist is None:
        raise artist_not_found(artist_id)
    return artist


async def get_song(song_id: PydanticObjectId) -> Song:
    """The song, or the 404 of an unknown id."""
    song = await repository.get_song(song_id)
    if song is None:
        raise song_not_found(song_id)
    return song


@dataclass(frozen=True, slots=True)
class SongAnswer:
    """A song as answered: its JSON, serialised once, and its version (the ETag)."""

    body: bytes
    version: int


SONG_DEPENDS = (CacheNamespace.CATALOG,)


async def kept_song(song_id: PydanticObjectId, reads: HotReads[Any]) -> SongAnswer | None:
    """The song's answer if this process keeps it current, else None (no MongoDB read)."""
    kept: SongAnswer | None = reads.get(
        ("song", song_id), await reads.clock.snapshot(), SONG_DEPENDS
    )
    return kept


async def read_song(song_id: PydanticObjectId, reads: HotReads[Any]) -> SongAnswer:
    """The song as answered (validated from its stored row), or the 404 of an unknown
    id. Kept in process memory, exactly current (beatstream.cache.reads): every write
    to songs bumps `CATALOG`, or announces the song (the play roll-up). A 404 is never
    kept (a create needs no bump)."""
    key = ("song", song_id)
    snapshot = await reads.clock.snapshot()
    kept: SongAnswer | None = reads.get(key, snapshot, SONG_DEPENDS)
    if kept is not None:
        return kept
    row = await repository.get_song_row(song_id)
    if row is None:
        raise song_not_found(song_id)
    song = SongOut.model_validate(row)
    answer = SongAnswer(song.model_dump_json().encode(), song.version)
    reads.put(key, snapshot, SONG_DEPENDS, answer, songs=(str(song_id),))
    return answer


async def list_artists(sort: str, limit: int, cursor: str | None) -> tuple[list[Row], str | None]:
    return await repository.list_artists(sort, limit, cursor)


async def create_artist(data: ArtistCreate) -> Artist:
    return await repository.insert_artist(Artist(**data.model_dump()))


async def update_artist(
    artist: Artist, data: ArtistUpdate, expected: int | None, *, reads: HotReads[Any]
) -> Artist:
    assert artist.id is not None
    changes = data.model_dump(exclude_unset=True)
    updated = await repository.update_artist(artist.id, changes, expected)
    if updated is None:
        raise artist_not_found(artist.id)
    if "name" in changes:
        await repository.rename_artist_in_songs(artist.id, updated.name)
        await reads.bump(CacheNamespace.CATALOG)  # songs embed their artist's name
    return updated


async def delete_artist(artist: Artist, expected: int | None) -> None:
    assert artist.id is not None
    if await repository.artist_has_songs(artist.id):
        raise ConflictError("the artist still has songs; delete or reassign them first")
    if not await repository.delete_artist(artist.id, expected):
        raise artist_not_found(artist.id)


async def _artist_ref(artist_id: PydanticObjectId) -> ArtistRef:
    artist = await repository.get_artist(artist_id)
    if artist is None:
        raise InvalidInputError("artist_id", f"no artist with id {artist_id}", location="body")
    return ArtistRef(id=artist_id, name=artist.name)


async def create_song(data: SongCreate) -> Song:
    fields = data.model_dump(exclude={"artist_id"})
    song = Song(**fields, artist=await _artist_ref(data.artist_id))
    return await repository.insert_song(song)


async def update_song(
    song: Song, data: SongUpdate, expected: int | None, *, reads: HotReads[Any]
) -> Song:
    assert song.id is not None
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"artist_id"})
    if data.artist_id is not None:
        changes["artist"] = (await _artist_ref(data.artist_id)).model_dump()
    if "album" in changes:
        changes["album"] = Album(**changes["album"]).model_dump()
    updated = await repository.update_song(song.id, changes, expected)
    if updated is None:
        raise song_not_found(song.id)
    await reads.bump(CacheNamespace.CATALOG)
    return updated


async def delete_song(song: Song, expected: int | None, *, reads: HotReads[Any]) -> None:
    assert song.id is not None
    if not await repository.delete_song(song.id, expected):
        raise song_not_found(song.id)
    await reads.bump(CacheNamespace.CATALOG)


def song_filters(query: SongListQuery) -> SongFilters:
    """The plain filter values of a song-list query: the repository takes these, never
    the HTTP query model (the admin explain diagnostic builds the same filters)."""
    return SongFilters(
        genre=query.genre,
        artist_id=query.artist_id,
        year_from=query.year_from,
        year_to=query.year_to,
        country=query.country,
    )


async def list_songs(query: SongListQuery) -> tuple[list[Row], str | None]:
    if query.year_from and query.year_to and query.year_from > query.year_to:
        raise InvalidInputError(
            "year_from", "year_from must not be after year_to", location="query"
        )
    return await repository.list_songs(song_filters(query), query.sort, query.limit, query.cursor)


async def artist_songs(
    artist: Artist, sort: str, limit: int, cursor: str | None
) -> tuple[list[Row], str | None]:
    return await repository.list_songs(SongFilters(artist_id=artist.id), sort, limit, cursor)


async def songs_by_year(year: int, limit: int) -> list[Row]:
    return await repository.songs_by_year(year, limit)


async def search_songs_by_artist(
    text: str, limit: int, *, text_search: bool
) -> tuple[list[Row], str]:
    """`text_search` is the server's capability; the answer names the strategy used."""
    return await repository.search_songs_by_artist(text, limit, text_search=text_search)


async def list_albums(
    artist_id: PydanticObjectId | None, limit: int, cursor: str | None
) -> tuple[list[Row], str | None]:
    return await repository.list_albums(artist_id, limit, cursor)


async def album_detail(album_id: str) -> tuple[dict[str, Any], list[Row]]:
    """An id this API never issued names no album: 404, as for any other unknown id."""
    try:
        artist_id, title, year = repository.parse_album_id(album_id)
    except InvalidInputError:
        raise NotFoundError(f"no album with id {album_id}") from None
    tracks = await repository.album_tracks(artist_id, title, year)
    if not tracks:
        raise NotFoundError(f"no album with id {album_id}")
    summary = {
        "id": album_id,
        "title": title,
        "release_year": year,
        "artist": tracks[0]["artist"],
        "track_count": len(tracks),
    }
    return summary, tracks
