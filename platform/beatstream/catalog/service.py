"""Catalogue rules: songs point at real artists, renames reach every copy, no orphans."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from beatstream.catalog import repository
from beatstream.catalog.documents import Album, Artist, ArtistRef, Song
from beatstream.catalog.repository import Row, SongFilters
from beatstream.catalog.schemas import ArtistCreate, ArtistUpdate, SongCreate, SongUpdate
from beatstream.errors import ConflictError, InvalidInputError, NotFoundError


def artist_not_found(artist_id: PydanticObjectId) -> NotFoundError:
    return NotFoundError(f"no artist with id {artist_id}")


def song_not_found(song_id: PydanticObjectId) -> NotFoundError:
    return NotFoundError(f"no song with id {song_id}")


async def create_artist(data: ArtistCreate) -> Artist:
    return await repository.insert_artist(Artist(**data.model_dump()))


async def update_artist(artist: Artist, data: ArtistUpdate, expected: int | None) -> Artist:
    assert artist.id is not None
    changes = data.model_dump(exclude_unset=True)
    updated = await repository.update_artist(artist.id, changes, expected)
    if updated is None:
        raise artist_not_found(artist.id)
    if "name" in changes:
        await repository.rename_artist_in_songs(artist.id, updated.name)
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


async def update_song(song: Song, data: SongUpdate, expected: int | None) -> Song:
    assert song.id is not None
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"artist_id"})
    if data.artist_id is not None:
        changes["artist"] = (await _artist_ref(data.artist_id)).model_dump()
    if "album" in changes:
        changes["album"] = Album(**changes["album"]).model_dump()
    updated = await repository.update_song(song.id, changes, expected)
    if updated is None:
        raise song_not_found(song.id)
    return updated


async def delete_song(song: Song, expected: int | None) -> None:
    assert song.id is not None
    if not await repository.delete_song(song.id, expected):
        raise song_not_found(song.id)


async def list_songs(
    filters: SongFilters, sort: str, limit: int, cursor: str | None
) -> tuple[list[Row], str | None]:
    if filters.year_from and filters.year_to and filters.year_from > filters.year_to:
        raise InvalidInputError(
            "year_from", "year_from must not be after year_to", location="query"
        )
    return await repository.list_songs(filters, sort, limit, cursor)


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
