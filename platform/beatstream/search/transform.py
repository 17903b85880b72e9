"""MongoDB rows -> Elasticsearch documents: the one transformation, for sync and tests alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def song_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """A song row as stored in MongoDB (`_id`, embedded album and artist) to its search form.

    Suggest inputs include every word suffix of the title ("Uptown Funk" and "Funk"),
    so typing the start of any word finds the song.
    """
    title = str(row["title"])
    words = title.split()
    views = {code: int(count) for code, count in dict(row.get("views_per_country") or {}).items()}
    artist = row["artist"]
    return {
        "id": str(row["_id"]),
        "title": title,
        "artist_id": str(artist["id"]),
        "artist_name": artist["name"],
        "genre": row["genre"],
        "album_title": row["album"]["title"],
        "release_year": row["album"]["release_year"],
        "duration_s": row.get("duration_s"),
        "views_per_country": views,
        "total_views": sum(views.values()),
        "suggest_song": {"input": [" ".join(words[i:]) for i in range(len(words))] or [title]},
        "suggest_artist": {"input": [artist["name"]]},
        "created_at": row.get("created_at"),
        "updated_at": row.get("updated_at"),
    }


def play_document(row: Mapping[str, Any], song: Mapping[str, Any] | None) -> dict[str, Any]:
    """A play event, with the song's artist and genre copied in for analytics."""
    return {
        "listener_id": str(row["listener_id"]),
        "song_id": str(row["song_id"]),
        "artist_id": str(song["artist"]["id"]) if song else None,
        "genre": song["genre"] if song else None,
        "country": row["country"],
        "played_at": row["played_at"],
        "ms_played": row["ms_played"],
    }
