"""Documents exactly as MongoDB stores them, for loaders and tests that bypass the API."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from seed.builders import artist_payload, song_payload


def song_row(
    rng: random.Random, artist: dict[str, Any] | None = None, **overrides: Any
) -> dict[str, Any]:
    """A song row (embedded album, denormalised artist) built from the API payload builder."""
    artist = artist or {"id": ObjectId(), "name": artist_payload(rng)["name"]}
    payload = song_payload(rng, str(artist["id"]))
    payload.pop("artist_id")
    now = datetime.now(UTC)
    return {
        "_id": ObjectId(),
        **payload,
        "artist": artist,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        **overrides,
    }
