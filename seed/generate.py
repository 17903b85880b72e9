"""A deterministic streaming catalogue: artists, songs, listeners and their play events.

Every document is a pure function of `(seed, kind, n)`: it draws from its own
`random.Random` seeded with that triple, so generating document `n` needs neither
the documents before it nor anything kept in memory. That gives three properties
the loader relies on:

- **Same seed, same data**, on any machine and any day (dates fall in fixed windows).
- **Natural keys**: the `_id` comes from a hash of `(seed, kind, n)`, so loading
  twice replaces documents instead of duplicating them, and a play can name its
  song's `_id` without looking the song up.
- **Constant memory**: the streams are generators; nothing holds a collection.

Field values come from `seed.builders` (the one source of fake data); this module
only turns those request bodies into documents exactly as the Beanie models store
them (`_id`, `created_at`, `updated_at`, `version`, `ObjectId`s, aware `datetime`s,
`Decimal128` money), which the tests check field by field against the models.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from bson import Decimal128, ObjectId

from seed.builders import artist_payload, listener_payload, play_payload, song_payload

Document = dict[str, Any]

# Catalogue documents are "created" in this window; by default plays happen after
# it, so no play predates the song or listener it names.
CATALOGUE_SINCE = datetime(2015, 1, 1, tzinfo=UTC)
CATALOGUE_UNTIL = datetime(2023, 1, 1, tzinfo=UTC)
PLAYS_SINCE = CATALOGUE_UNTIL
PLAYS_UNTIL = datetime(2025, 1, 1, tzinfo=UTC)

# Popularity skew: rank = floor(count * u ** exponent) for uniform u. With 3, the top
# 1% of songs get about 21% of plays and the top 10% about 46%; listeners and the
# artists songs belong to are skewed less.
SONG_SKEW = 3.0
LISTENER_SKEW = 2.0
ARTIST_SKEW = 2.0
# Ranks are spread over indices by a multiplication modulo the count, so the popular
# documents are scattered rather than being documents 0, 1, 2... A prime above any
# practical count is coprime with it, which makes the spread a permutation.
_SPREAD = 2_654_435_761

KINDS = ("artists", "songs", "listeners", "plays")


@dataclass(frozen=True, slots=True)
class Counts:
    """How many documents of each kind to generate."""

    artists: int = 2_000
    songs: int = 50_000
    listeners: int = 20_000
    plays: int = 1_000_000

    def __post_init__(self) -> None:
        for kind in KINDS:
            if getattr(self, kind) < 0:
                raise ValueError(f"{kind} must not be negative")
        if self.songs and not self.artists:
            raise ValueError("songs need at least one artist")
        if self.plays and not (self.songs and self.listeners):
            raise ValueError("plays need at least one song and one listener")

    def of(self, kind: str) -> int:
        count: int = getattr(self, kind)
        return count


def _rng(seed: int, kind: str, n: int) -> random.Random:
    # A string seed is hashed with SHA-512 by `random`, stable across runs and
    # platforms (unlike `hash()`, which is salted per process).
    return random.Random(f"{seed}:{kind}:{n}")  # noqa: S311 - fake data, not secrets


def _digest(seed: int, kind: str, n: int) -> bytes:
    return hashlib.blake2b(f"{seed}:{kind}:{n}".encode(), digest_size=8).digest()


def _object_id(moment: datetime, digest: bytes) -> ObjectId:
    """An ObjectId whose timestamp is `moment` (what `generation_time` reads back) and
    whose other 8 bytes are the natural key's hash."""
    return ObjectId(int(moment.timestamp()).to_bytes(4, "big") + digest)


def catalogue_key(seed: int, kind: str, n: int) -> tuple[ObjectId, datetime]:
    """The `_id` and creation time of artist, song or listener `n`, from the hash alone.

    Both come from the key, not from the document's random draws, so a song can name
    its artist and a play its song and listener (and start after their creation)
    without generating them.
    """
    digest = _digest(seed, kind, n)
    span = int((CATALOGUE_UNTIL - CATALOGUE_SINCE).total_seconds())
    created = CATALOGUE_SINCE + timedelta(seconds=int.from_bytes(digest, "big") % span)
    return _object_id(created, digest), created


def _skewed(rng: random.Random, count: int, exponent: float, salt: int) -> int:
    """An index in `range(count)`, low ranks far more likely, ranks scattered by `salt`."""
    rank = min(int(count * rng.random() ** exponent), count - 1)
    return (rank * _SPREAD + salt) % count


def _stamps(created: datetime) -> Document:
    """What `VersionedDocument` stores for a document that was never updated."""
    return {"created_at": created, "updated_at": created, "version": 1}


@lru_cache(maxsize=4096)
def _artist_fields(seed: int, n: int) -> tuple[str, str, tuple[str, ...]]:
    """Name, country, genres of artist `n`; cached (bounded) because songs denormalise
    the name and draw their genre from these, and popular artists recur."""
    payload = artist_payload(_rng(seed, "artists", n))
    return payload["name"], payload["country"], tuple(payload["genres"])


def artist(seed: int, n: int) -> Document:
    oid, created = catalogue_key(seed, "artists", n)
    name, country, genres = _artist_fields(seed, n)
    return {"_id": oid, **_stamps(created), "name": name, "country": country, "genres": [*genres]}


def song(seed: int, n: int, counts: Counts) -> Document:
    """A song by a skew-drawn artist (some artists have many songs), in one of the
    artist's genres, with the artist's name denormalised as the API stores it."""
    rng = _rng(seed, "songs", n)
    oid, created = catalogue_key(seed, "songs", n)
    artist_n = _skewed(rng, counts.artists, ARTIST_SKEW, seed)
    artist_id, _ = catalogue_key(seed, "artists", artist_n)
    name, _, genres = _artist_fields(seed, artist_n)
    payload = song_payload(rng, str(artist_id), genre=rng.choice(genres))
    return {
        "_id": oid,
        **_stamps(created),
        "title": payload["title"],
        "artist": {"id": artist_id, "name": name},
        "genre": payload["genre"],
        "duration_s": payload["duration_s"],
        "album": payload["album"],
        "views_per_country": payload["views_per_country"],
    }


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def email_of(seed: int, n: int, name: str) -> str:
    """Unique per (seed, index), so the unique email index never rejects a seeded
    listener, even next to another seed's listeners in the same database."""
    first, _, last = name.partition(" ")
    return f"{first}.{last}.{seed}.{n}@example.com".lower()


def listener(seed: int, n: int) -> Document:
    """A listener (fake personal data) with a mixed consent flag and a subscription
    history over the years, money as `Decimal128` like the model stores it."""
    oid, created = catalogue_key(seed, "listeners", n)
    payload = listener_payload(_rng(seed, "listeners", n))
    actions = [
        {
            "action": a["action"],
            "date": _instant(a["date"]),
            "amount": None if a["amount"] is None else Decimal128(a["amount"]),
        }
        for a in payload["actions"]
    ]
    return {
        "_id": oid,
        **_stamps(created),
        "name": payload["name"],
        "email": email_of(seed, n, payload["name"]),
        "year_of_birth": payload["year_of_birth"],
        "country": payload["country"],
        "consent_to_share_data": payload["consent_to_share_data"],
        "actions": actions,
        # Seeded listeners are not accounts: no password, so they cannot log in.
        "password_hash": None,
        "role": "listener",
        "token_generation": 0,
        # Set by the loader when it has the pseudonym secret (seed.load.with_listener_keys).
        "listener_key": None,
    }


def play(
    seed: int,
    n: int,
    counts: Counts,
    since: datetime = PLAYS_SINCE,
    until: datetime = PLAYS_UNTIL,
) -> Document:
    """One play: popular songs and heavy listeners drawn far more often, played at a
    second in `[since, until)` after both were created (when the range allows)."""
    rng = _rng(seed, "plays", n)
    listener_id, listener_created = catalogue_key(
        seed, "listeners", _skewed(rng, counts.listeners, LISTENER_SKEW, seed)
    )
    song_id, song_created = catalogue_key(
        seed, "songs", _skewed(rng, counts.songs, SONG_SKEW, seed)
    )
    earliest = max(since, listener_created, song_created)
    if earliest >= until:  # a range before the catalogue existed: honour the range
        earliest = since
    seconds = max(1, int((until - earliest).total_seconds()))
    played_at = earliest + timedelta(seconds=rng.randrange(seconds))
    payload = play_payload(rng, str(listener_id), str(song_id))
    return {
        "_id": _object_id(played_at, _digest(seed, "plays", n)),
        "listener_id": listener_id,
        "song_id": song_id,
        "played_at": played_at,
        "country": payload["country"],
        "ms_played": payload["ms_played"],
    }


def artists(seed: int, counts: Counts) -> Iterator[Document]:
    return (artist(seed, n) for n in range(counts.artists))


def songs(seed: int, counts: Counts) -> Iterator[Document]:
    return (song(seed, n, counts) for n in range(counts.songs))


def listeners(seed: int, counts: Counts) -> Iterator[Document]:
    return (listener(seed, n) for n in range(counts.listeners))


def plays(
    seed: int, counts: Counts, since: datetime = PLAYS_SINCE, until: datetime = PLAYS_UNTIL
) -> Iterator[Document]:
    if until <= since:
        raise ValueError("the play range must end after it starts")
    return (play(seed, n, counts, since, until) for n in range(counts.plays))


def stream(
    kind: str,
    seed: int,
    counts: Counts,
    since: datetime = PLAYS_SINCE,
    until: datetime = PLAYS_UNTIL,
) -> Iterator[Document]:
    """The documents of one kind, in index order."""
    if kind == "artists":
        return artists(seed, counts)
    if kind == "songs":
        return songs(seed, counts)
    if kind == "listeners":
        return listeners(seed, counts)
    if kind == "plays":
        return plays(seed, counts, since, until)
    raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
