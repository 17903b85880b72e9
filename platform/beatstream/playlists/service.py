"""Playlist rules: songs must exist when added, order is the owner's, edits never collide."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId

from beatstream.auth.principals import Principal
from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.reads import HotReads
from beatstream.common.concurrency import representation_etag
from beatstream.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from beatstream.playlists import repository
from beatstream.playlists.documents import Playlist, Visibility
from beatstream.playlists.schemas import (
    PlaylistCreate,
    PlaylistUpdate,
    PlaylistWithSongs,
    SongMove,
    SongsAdd,
)

IMPLICIT_RETRIES = 3


def playlist_not_found(playlist_id: PydanticObjectId) -> NotFoundError:
    return NotFoundError(f"no playlist with id {playlist_id}")


def may_read(owner_id: PydanticObjectId, visibility: str, principal: Principal | None) -> bool:
    """Public playlists are for everyone (anonymous too); private ones for the owner and admins."""
    if visibility == Visibility.public:
        return True
    return principal is not None and principal.may_act_for(owner_id)


def require_editable(playlist: Playlist, principal: Principal) -> None:
    """Only the owner or an admin writes. Someone else's private playlist is a 404, the
    answer for one that does not exist; a public one is visible anyway, so a 403 leaks
    nothing and tells the client the truth."""
    if principal.may_act_for(playlist.owner_id):
        return
    assert playlist.id is not None
    if playlist.visibility != Visibility.public:
        raise playlist_not_found(playlist.id)
    raise ForbiddenError("only the playlist's owner may change it")


async def get_playlist(playlist_id: PydanticObjectId) -> Playlist:
    """The playlist, or the 404 of an unknown id."""
    playlist = await repository.get_playlist(playlist_id)
    if playlist is None:
        raise playlist_not_found(playlist_id)
    return playlist


async def list_owner_playlists(
    owner_id: PydanticObjectId, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, private ones included: the caller has proven ownership."""
    return await repository.list_owner_playlists(owner_id, limit, cursor)


async def create_playlist(owner_id: PydanticObjectId, data: PlaylistCreate) -> Playlist:
    return await repository.insert_playlist(Playlist(owner_id=owner_id, **data.model_dump()))


async def update_playlist(
    playlist: Playlist, data: PlaylistUpdate, expected: int | None, *, reads: HotReads[Any]
) -> Playlist:
    assert playlist.id is not None
    updated = await repository.update_playlist(
        playlist.id, data.model_dump(exclude_unset=True, mode="json"), expected
    )
    if updated is None:
        raise playlist_not_found(playlist.id)
    await reads.bump(CacheNamespace.PLAYLISTS)
    return updated


async def delete_playlist(
    playlist: Playlist, expected: int | None, *, reads: HotReads[Any]
) -> None:
    assert playlist.id is not None
    if not await repository.delete_playlist(playlist.id, expected):
        raise playlist_not_found(playlist.id)
    await reads.bump(CacheNamespace.PLAYLISTS)


async def read_with_songs(
    playlist_id: PydanticObjectId, principal: Principal | None
) -> dict[str, Any]:
    """The playlist in its own order, each entry resolved, deleted songs flagged.

    A private playlist read by anyone but its owner or an admin is the same 404 as a
    missing one (checked after the one read, so both cost the same round trip).
    """
    found = await repository.get_playlist_with_songs(playlist_id)
    if found is None:
        raise playlist_not_found(playlist_id)
    playlist, songs = found
    if not may_read(
        playlist["owner_id"], playlist.get("visibility", Visibility.private), principal
    ):
        raise playlist_not_found(playlist_id)
    entries, missing = [], []
    for position, song_id in enumerate(playlist.get("song_ids", [])):
        song = songs.get(song_id)
        if song is None:
            missing.append({"position": position, "song_id": song_id})
        else:
            entries.append({"position": position, "song": {**song, "id": song["_id"]}})
    return {**playlist, "id": playlist["_id"], "songs": entries, "missing": missing}


@dataclass(frozen=True, slots=True)
class PlaylistAnswer:
    """A playlist with its songs as answered: its JSON, serialised once, and its ETag
    (`answer_etag`), computed once with it and kept with it."""

    body: bytes
    etag: str


def answer_etag(playlist: dict[str, Any]) -> str:
    """The ETag of `read_with_songs`'s answer: the playlist's version and each entry's
    song id and version, in order (None for a deleted song, listed under `missing`).
    The body changes when a song it embeds is edited, renamed with its artist or
    counted by the roll-up, and each of those moves that song's `version`, so the tag
    changes with the body; the playlist's own `version` covers its name, visibility
    and order."""
    shown = {entry["position"]: entry["song"]["version"] for entry in playlist["songs"]}
    return representation_etag(
        playlist["version"],
        (
            (song_id, shown.get(position))
            for position, song_id in enumerate(playlist.get("song_ids", []))
        ),
    )


# A playlist answer embeds its songs: a catalogue write makes it stale too, and so
# does a roll-up announcing one of its songs (`HotReads.put(songs=...)`).
PLAYLIST_DEPENDS = (CacheNamespace.PLAYLISTS, CacheNamespace.CATALOG)


async def kept_public_answer(
    playlist_id: PydanticObjectId, reads: HotReads[Any]
) -> PlaylistAnswer | None:
    """A public playlist's answer if this process keeps it current, else None."""
    kept: PlaylistAnswer | None = reads.get(
        ("playlist", playlist_id), await reads.clock.snapshot(), PLAYLIST_DEPENDS
    )
    return kept


async def read_answer(
    playlist_id: PydanticObjectId, principal: Principal | None, reads: HotReads[Any]
) -> PlaylistAnswer:
    """`read_with_songs`, validated and serialised once; a **public** playlist's answer
    is kept in process memory, exactly current (beatstream.cache.reads). A private one
    is never kept, so what is kept is what anyone, anonymous included, may read; a
    playlist made private bumps `PLAYLISTS`, and its kept answer is never served again.
    """
    key = ("playlist", playlist_id)
    snapshot = await reads.clock.snapshot()
    kept: PlaylistAnswer | None = reads.get(key, snapshot, PLAYLIST_DEPENDS)
    if kept is not None:
        return kept
    playlist = await read_with_songs(playlist_id, principal)
    body = PlaylistWithSongs.model_validate(playlist).model_dump_json().encode()
    answer = PlaylistAnswer(body, answer_etag(playlist))
    if playlist.get("visibility") == Visibility.public:
        songs = [str(song_id) for song_id in playlist.get("song_ids", [])]
        reads.put(key, snapshot, PLAYLIST_DEPENDS, answer, songs=songs)
    return answer


async def _edit_songs(
    playlist: Playlist,
    expected: int | None,
    edit: Callable[[list[PydanticObjectId]], list[PydanticObjectId]],
    reads: HotReads[Any],
) -> Playlist:
    """Rewrite the song list guarded by the version it was computed from.

    With `If-Match`, a concurrent change is the client's to resolve (412). Without
    it, the edit is re-applied to a fresh read, so two clients adding songs at the
    same time both get their songs in, and neither overwrites the other.
    """
    assert playlist.id is not None
    current = playlist
    for _ in range(IMPLICIT_RETRIES):
        if expected is not None and current.version != expected:
            raise PreconditionFailedError(f"version {expected} is not current")
        song_ids = edit(list(current.song_ids))
        try:
            updated = await repository.update_playlist(
                playlist.id, {"song_ids": song_ids}, current.version
            )
        except PreconditionFailedError:
            if expected is not None:
                raise
            refreshed = await repository.get_playlist(playlist.id)
            if refreshed is None:
                raise playlist_not_found(playlist.id) from None
            current = refreshed
            continue
        if updated is None:
            raise playlist_not_found(playlist.id)
        await reads.bump(CacheNamespace.PLAYLISTS)
        return updated
    raise ConflictError("the playlist kept changing while we wrote; try again")


async def add_songs(
    playlist: Playlist, data: SongsAdd, expected: int | None, *, reads: HotReads[Any]
) -> Playlist:
    existing = await repository.existing_song_ids(list(set(data.song_ids)))
    for index, song_id in enumerate(data.song_ids):
        if song_id not in existing:
            raise InvalidInputError(
                f"song_ids[{index}]", f"no song with id {song_id}", location="body"
            )

    assert playlist.id is not None
    updated = await repository.push_songs(playlist.id, data.song_ids, data.position, expected)
    if updated is None:
        raise playlist_not_found(playlist.id)
    await reads.bump(CacheNamespace.PLAYLISTS)
    return updated


async def remove_song(
    playlist: Playlist, position: int, expected: int | None, *, reads: HotReads[Any]
) -> Playlist:
    def remove(song_ids: list[PydanticObjectId]) -> list[PydanticObjectId]:
        if position >= len(song_ids):
            raise NotFoundError(f"the playlist has no entry at position {position}")
        return song_ids[:position] + song_ids[position + 1 :]

    return await _edit_songs(playlist, expected, remove, reads)


async def move_song(
    playlist: Playlist, move: SongMove, expected: int | None, *, reads: HotReads[Any]
) -> Playlist:
    def reorder(song_ids: list[PydanticObjectId]) -> list[PydanticObjectId]:
        for field in ("from_position", "to_position"):
            if getattr(move, field) >= len(song_ids):
                raise InvalidInputError(
                    field, f"the playlist has {len(song_ids)} entries", location="body"
                )
        song = song_ids.pop(move.from_position)
        song_ids.insert(move.to_position, song)
        return song_ids

    return await _edit_songs(playlist, expected, reorder, reads)
