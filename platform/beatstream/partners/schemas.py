"""Scopes, the admin audit query and the response shapes of keys and audit rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from beatstream.common.inputs import InputModel, OutputModel
from beatstream.common.instants import Instant
from beatstream.common.pagination import PageQuery
from beatstream.partners.views.definitions import ViewName

# The views a key can be scoped to: the views' own names, one enum for both.
VIEW_NAMES: tuple[str, ...] = tuple(view.value for view in ViewName)

ALL_VIEWS_SCOPE = "views:read"
KNOWN_SCOPES: frozenset[str] = frozenset(
    {ALL_VIEWS_SCOPE, *(f"{ALL_VIEWS_SCOPE}:{view}" for view in VIEW_NAMES)}
)
KEY_ID_PATTERN = r"^[0-9a-f]{16}$"


@dataclass(frozen=True, slots=True)
class PartnerKey:
    """The caller behind a valid key, as routes see it: no secret, nothing to leak."""

    key_id: str  # public id part of the key, safe to log
    name: str  # partner name, e.g. "acme"
    scopes: frozenset[str]


def view_scope(view: str) -> str:
    return f"{ALL_VIEWS_SCOPE}:{view}"


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """Comma lists split, blanks dropped, duplicates removed, sorted; unknown ones refused.

    Raises `ValueError` naming every unknown scope: a typo must not silently create a
    key that reads nothing (or, worse, one the operator thinks is narrower than it is).
    """
    wanted = {part.strip() for scope in scopes for part in scope.split(",") if part.strip()}
    if not wanted:
        raise ValueError("give at least one scope")
    unknown = sorted(wanted - KNOWN_SCOPES)
    if unknown:
        raise ValueError(
            f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_SCOPES))}"
        )
    return sorted(wanted)


class ApiKeyOut(OutputModel):
    """A key as admins see it: never the secret, nor its digest."""

    key_id: str
    name: str
    scopes: list[str]
    rate_limit: int | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreate(InputModel):
    """`POST /v1/admin/keys`: what `beatstream keys create` takes, over HTTP."""

    name: str = Field(min_length=1, max_length=100, examples=["acme"])
    # Each item exactly one known scope, as the enum says (the CLI's comma lists and
    # stray blanks are a command-line convenience, not part of the HTTP contract).
    scopes: list[Annotated[str, Field(json_schema_extra={"enum": sorted(KNOWN_SCOPES)})]] = Field(
        min_length=1, max_length=10, examples=[["views:read"]]
    )
    rate_limit: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Requests per window; none = default."
    )

    @field_validator("scopes")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        if unknown := sorted(set(value) - KNOWN_SCOPES):
            raise ValueError(
                f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_SCOPES))}"
            )
        return normalize_scopes(value)


class ApiKeyCreated(ApiKeyOut):
    """The one answer that carries the key itself: store it now, it is never shown again."""

    key: str


class AuditEntryOut(OutputModel):
    key_id: str
    key_name: str
    view: str
    filters: dict[str, str]
    rows: int
    format: str
    request_id: str | None
    at: datetime


class AuditQuery(PageQuery):
    """`GET /v1/admin/audit`: newest first, optionally one key, one view, a time range."""

    key_id: str | None = Field(default=None, pattern=KEY_ID_PATTERN, description="One key's pulls.")
    view: ViewName | None = Field(default=None, description="One view's pulls.")
    since: Instant | None = Field(default=None, description="Pulls at or after this instant.")
    until: Instant | None = Field(default=None, description="Pulls before this instant.")

    @field_validator("until")
    @classmethod
    def _after_since(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if value is not None and since is not None and value <= since:
            raise ValueError("until must be later than since")
        return value
