"""Partner API keys and the audit log of what partners pulled with them.

A key document holds no secret: only the SHA-256 of the key's secret part, so a
copy of the database (a backup, a replica) cannot be replayed against the API.
The audit log is append-only, one row per pull, read by admins through the indexes
below and removed after a retention period by a TTL index made at start.
"""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from beatstream.common.documents import utcnow


class ApiKey(Document):
    key_id: str  # the public part of the key: safe to log, what admins revoke by
    name: str  # the partner, e.g. "acme"
    scopes: list[str]
    secret_sha256: str  # hex digest of the secret part; the secret itself is never stored
    # Requests per rate-limit window; None: the configured default for keys.
    rate_limit: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None

    class Settings:
        name = "api_keys"
        indexes = [
            # Every authenticated request looks its key up by this; ids never repeat.
            IndexModel([("key_id", ASCENDING)], name="key_id_unique", unique=True),
        ]


class AuditEntry(Document):
    """One third-party pull: who, which view, with which filters, how many rows, when.

    Each admin query is one index range scan ending in `_id`, the keyset tie-breaker:
    by key (`key_at_id`), by view (`view_at_id`), or everything (`at_id`).
    """

    key_id: str
    key_name: str
    view: str
    filters: dict[str, str] = Field(default_factory=dict)
    rows: int
    format: str
    request_id: str | None = None
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "audit_log"
        indexes = [
            IndexModel(
                [("key_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)],
                name="key_at_id",
            ),
            IndexModel(
                [("view", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)],
                name="view_at_id",
            ),
            IndexModel([("at", DESCENDING), ("_id", DESCENDING)], name="at_id"),
        ]
