"""Listeners (people who stream: personal data) and the plays they generate.

A listener embeds their subscription history: a few events a year, always read with
the listener, appended atomically with `$push`. Plays are the opposite: one small
append-only document per stream, written far more often than read, so they live in
their own collection with as few indexes as the reads need.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from beanie.odm.custom_types.decimal import DecimalAnnotation
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from beatstream.auth.principals import Role
from beatstream.common.documents import VersionedDocument, utcnow


class SubscriptionActionType(StrEnum):
    BASIC = "basic subscription"
    PREMIUM = "premium subscription"
    UNSUBSCRIPTION = "unsubscription"


class SubscriptionAction(BaseModel):
    action: SubscriptionActionType
    date: datetime
    # Stored as Decimal128: money must not pick up binary-float rounding.
    amount: DecimalAnnotation | None = None


class Listener(VersionedDocument):
    name: str
    email: str  # lower-cased and trimmed before it gets here; unique
    year_of_birth: int
    country: str
    consent_to_share_data: bool = False
    actions: list[SubscriptionAction] = Field(default_factory=list)
    # The account side: an argon2id hash (None for seeded listeners, who cannot log in)
    # and the role, changed only by an operator (`beatstream accounts grant`).
    password_hash: str | None = Field(default=None, repr=False)
    role: Role = Role.listener
    # Moved on by logout-everywhere and a password change: tokens carrying an older
    # generation are refused (docs/auth.md). Not a profile change, so no version bump.
    token_generation: int = 0
    # Pseudonymous key for the third-party views (HMAC of the id under a server secret,
    # see beatstream.partners.views.pseudonyms). No key, no appearance in any view.
    listener_key: str | None = None

    class Settings:
        name = "listeners"
        indexes = [
            # One account per address; also what a login or support lookup reads by.
            IndexModel([("email", ASCENDING)], name="email_unique", unique=True),
            # The third-party views page by key, and the change feed by (updated_at, key).
            IndexModel([("listener_key", ASCENDING)], name="listener_key"),
            IndexModel(
                [("updated_at", ASCENDING), ("listener_key", ASCENDING)], name="updated_key"
            ),
        ]


class PlayEvent(Document):
    """One stream of one song by one listener. Append-only: never updated, so no version.

    Every index costs a write on each of the many inserts, so there are only the two
    the API reads through, each ending in `_id` so keyset pages (newest first, ties
    broken by id) are served straight from the index without an in-memory sort:

    - `song_played_id`: a song's plays, newest first (`GET /v1/songs/{id}/plays`).
    - `listener_played_id`: a listener's plays, newest first; also what erasing a
      listener's history (`DELETE /v1/listeners/{id}`) deletes through.

    The time the server received a play is the `_id`'s own timestamp, so no
    `created_at` field is stored.
    """

    listener_id: PydanticObjectId
    song_id: PydanticObjectId
    played_at: datetime
    country: str
    ms_played: int

    class Settings:
        name = "play_events"
        indexes = [
            IndexModel(
                [("song_id", ASCENDING), ("played_at", DESCENDING), ("_id", DESCENDING)],
                name="song_played_id",
            ),
            IndexModel(
                [("listener_id", ASCENDING), ("played_at", DESCENDING), ("_id", DESCENDING)],
                name="listener_played_id",
            ),
        ]


class ListenerErasure(Document):
    """A listener was erased: their plays must also leave the search indices.

    Written before the listener's plays are deleted from MongoDB, so the play sync
    (which can no longer see deleted plays) learns which documents to remove; it
    follows this log by `(erased_at, _id)` as the song sync follows tombstones.
    """

    listener_id: PydanticObjectId
    erased_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "listener_erasures"
        indexes = [
            IndexModel([("erased_at", ASCENDING), ("_id", ASCENDING)], name="erased_id"),
            # Each batch of plays is checked against the log before it is indexed.
            IndexModel([("listener_id", ASCENDING)], name="listener_id"),
        ]
