"""Request and response models for listeners and play events (under /v1).

Listeners are personal data: every response model lists its fields explicitly, so a
field added to the document later is never published by accident.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Self

from beanie import PydanticObjectId
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from beatstream.auth.schemas import Password
from beatstream.common.countries import CountryCode
from beatstream.common.inputs import InputModel, OutputModel, PatchModel
from beatstream.common.instants import Instant
from beatstream.listeners.documents import SubscriptionActionType

MAX_BATCH = 500
MAX_ACTIONS_AT_REGISTRATION = 200
MAX_MS_PLAYED = 24 * 3600 * 1000
# Device clocks drift; a play stamped a little ahead of ours is still believable.
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)


def _not_after_this_year(year: int) -> int:
    if year > datetime.now(UTC).year:
        raise ValueError("year_of_birth may not be in the future")
    return year


def _utc_past_instant(value: datetime) -> datetime:
    """Millisecond precision (what MongoDB keeps; `Instant` is UTC already), not in the future.

    Normalising here means the value a client gets back equals the stored one, and
    keyset cursors built from either compare equal.
    """
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("may not be in the future")
    if value < EARLIEST_INSTANT:
        raise ValueError("may not be before 2000-01-01")
    return value


# Not whitespace: `\s` plus what only one of Python and JSON Schema (ECMA-262) counts
# as whitespace, so the server and a client validating against the document agree.
_EMAIL_PART = r"[^@\s\x1c-\x1f\x85\ufeff]+"
_EMAIL = rf"{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}"
# What `strip_whitespace` trims (pydantic-core uses Rust's `str::trim`: Unicode
# White_Space). Spelled out rather than `\s` because Python, Rust and JSON Schema each
# count a different set as whitespace, and the document must say exactly what the
# server accepts: a name needs one character outside it; an email may have it around.
_TRIMMED = r"[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_NOT_TRIMMED = "[^" + _TRIMMED[1:]
NAME_MAX = 200
EMAIL_MAX = 254


def _sent_at_most(limit: int) -> BeforeValidator:
    """A length limit on the text as sent, as the document says (`maxLength` counts the
    characters sent; `max_length` after `strip_whitespace` would count them trimmed).
    Listed after the constraints, so it runs before them."""

    def check(value: object) -> object:
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"String should have at most {limit} characters")
        return value

    return BeforeValidator(check)


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    _sent_at_most(NAME_MAX),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": NAME_MAX,
            "pattern": _NOT_TRIMMED,
            "description": "Trimmed; at least one character that is not whitespace.",
            "examples": ["Ada Lovelace"],
        }
    ),
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=rf"^{_EMAIL}$"),
    _sent_at_most(EMAIL_MAX),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": EMAIL_MAX,
            "pattern": rf"^{_TRIMMED}*{_EMAIL}{_TRIMMED}*$",
            "description": "Trimmed and stored lower-cased; unique.",
            "examples": ["ada@example.com"],
        }
    ),
]
YearOfBirth = Annotated[
    int,
    Field(
        ge=1900,
        examples=[1990],
        description="1900 to the current year.",
        # The year the document is built: the bound the validator below enforces.
        json_schema_extra=lambda schema: schema.update(maximum=datetime.now(UTC).year),
    ),
    AfterValidator(_not_after_this_year),
]
PastInstant = Annotated[
    Instant,
    Field(description="With a UTC offset; not in the future (5 minutes of clock skew allowed)."),
    AfterValidator(_utc_past_instant),
]
AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
AMOUNT_MAX = Decimal("9999999999.99")


def _amount_text(value: object) -> object:
    """A string amount in the one format the document states (`"9.99"`), not whatever
    `Decimal()` would parse (`"1E+2"`, `"1_0"`, `" 9 "`), or a whole number.

    A JSON number with a fraction is refused: it arrives as a binary float (`0.57` may
    be `0.5700000000000001`), so which cents it meant is a guess, and the schema could
    not say which floats pass. Whole numbers (`10`, `10.0`) are exact."""
    if isinstance(value, str) and not re.fullmatch(AMOUNT_PATTERN, value):
        raise ValueError('an amount such as "9.99": up to 10 digits and 2 decimals')
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError('an amount with cents as a string, such as "9.99"')
        return int(value)
    return value


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount_text),
    Field(ge=0, le=AMOUNT_MAX, max_digits=12, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": int(AMOUNT_MAX)},
                {"type": "string", "pattern": AMOUNT_PATTERN},
            ],
            "examples": ["9.99"],
        }
    ),
]
MsPlayed = Annotated[int, Field(ge=0, le=MAX_MS_PLAYED, examples=[184_000])]


# Listeners


class ActionIn(InputModel):
    """One subscription event; `date` defaults to now, `amount` to none (free or unknown)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action": "premium subscription",
                    "date": "2026-01-05T10:00:00Z",
                    "amount": "9.99",
                }
            ]
        }
    )

    action: SubscriptionActionType
    date: PastInstant | None = None
    amount: Amount | None = None


class ActionOut(OutputModel):
    action: SubscriptionActionType
    date: datetime
    amount: Decimal | None = Field(description="A decimal string, so no float rounding.")


class ListenerCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Ada Lovelace",
                    "email": "Ada@Example.com",
                    "password": "correct horse battery staple",
                    "year_of_birth": 1990,
                    "country": "GB",
                    "consent_to_share_data": True,
                    "actions": [
                        {
                            "action": "basic subscription",
                            "date": "2024-03-01T09:30:00Z",
                            "amount": "4.99",
                        }
                    ],
                }
            ]
        }
    )

    name: Name
    email: Email
    password: Password
    year_of_birth: YearOfBirth
    country: CountryCode
    # Strict: consent must be an explicit JSON true/false, never "yes" or 1.
    consent_to_share_data: StrictBool = False
    actions: list[ActionIn] = Field(default_factory=list, max_length=MAX_ACTIONS_AT_REGISTRATION)


class ListenerUpdate(PatchModel):
    """Only the fields given change. Subscription history is appended, never replaced.

    A new `email` also needs `current_password`: the email is what the account logs in
    with, so a stolen token alone must not be able to take the account over.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"consent_to_share_data": False},
                {"email": "ada@example.org", "current_password": "correct horse battery staple"},
            ]
        }
    )

    name: Name | None = None
    email: Email | None = None
    year_of_birth: YearOfBirth | None = None
    country: CountryCode | None = None
    consent_to_share_data: StrictBool | None = None
    current_password: SecretStr | None = Field(
        default=None,
        max_length=256,
        description="The signed-in account's password; required to change `email`.",
    )

    @model_validator(mode="after")
    def _a_change_beside_the_password(self) -> Self:
        if not self.model_fields_set - {"current_password"}:
            raise ValueError("give at least one field to change")
        return self


class ListenerOut(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6650f1c2a1b2c3d4e5f60720",
                    "name": "Ada Lovelace",
                    "email": "ada@example.com",
                    "year_of_birth": 1990,
                    "country": "GB",
                    "consent_to_share_data": True,
                    "actions": [
                        {
                            "action": "basic subscription",
                            "date": "2024-03-01T09:30:00Z",
                            "amount": "4.99",
                        }
                    ],
                    "created_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-01-05T10:00:00Z",
                    "version": 1,
                }
            ]
        }
    )

    id: PydanticObjectId
    name: str
    email: str
    year_of_birth: int
    country: str
    consent_to_share_data: bool
    actions: list[ActionOut]
    created_at: datetime
    updated_at: datetime
    version: int


# Plays


class PlayCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "listener_id": "6650f1c2a1b2c3d4e5f60720",
                    "song_id": "6650f1c2a1b2c3d4e5f60719",
                    "played_at": "2026-01-05T10:03:00Z",
                    "country": "IT",
                    "ms_played": 184000,
                }
            ]
        }
    )

    listener_id: PydanticObjectId
    song_id: PydanticObjectId
    played_at: PastInstant | None = Field(
        default=None, description="When the play started; defaults to when it is received."
    )
    country: CountryCode
    ms_played: MsPlayed


class PlayBatch(InputModel):
    """Up to 500 plays in one request: what a player uploads after being offline."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "listener_id": "6650f1c2a1b2c3d4e5f60720",
                            "song_id": "6650f1c2a1b2c3d4e5f60719",
                            "played_at": "2026-01-05T10:03:00Z",
                            "country": "IT",
                            "ms_played": 184000,
                        }
                    ]
                }
            ]
        }
    )

    events: list[PlayCreate] = Field(min_length=1, max_length=MAX_BATCH)


class PlayOut(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6650f1c2a1b2c3d4e5f60730",
                    "listener_id": "6650f1c2a1b2c3d4e5f60720",
                    "song_id": "6650f1c2a1b2c3d4e5f60719",
                    "played_at": "2026-01-05T10:03:00Z",
                    "country": "IT",
                    "ms_played": 184000,
                }
            ]
        }
    )

    id: PydanticObjectId
    listener_id: PydanticObjectId
    song_id: PydanticObjectId
    played_at: datetime
    country: str
    ms_played: int


class PlayBatchResult(OutputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"inserted": 500}]})

    inserted: int = Field(description="How many plays were stored (every event of the batch).")
