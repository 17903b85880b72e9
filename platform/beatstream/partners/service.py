"""Partner keys: minted once, stored hashed, checked in constant time; pulls audited.

A key reads `bsk_<key_id>_<secret>`: `key_id` (16 hex digits) is public, safe to log
and what admins revoke by; `secret` is 32 random bytes (urlsafe base64, 43 chars),
shown once at creation and never stored. The database keeps SHA-256 of the secret.
A fast hash is the right one here: slow hashes (bcrypt, argon2) exist to make
guessing *low-entropy* passwords expensive, but nobody can enumerate 2**256 secrets
at any hash speed, and a slow hash would cost every API request tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from hmac import compare_digest

from beatstream.common.pagination import Page
from beatstream.errors import ForbiddenError, UnauthorizedError
from beatstream.metrics.families import PARTNER_PULLS, PARTNER_ROWS
from beatstream.partners import repository
from beatstream.partners.documents import ApiKey, AuditEntry
from beatstream.partners.schemas import (
    ALL_VIEWS_SCOPE,
    AuditEntryOut,
    AuditQuery,
    PartnerKey,
    normalize_scopes,
    view_scope,
)

KEY_PREFIX = "bsk_"
KEY_ID_HEX_DIGITS = 16
SECRET_BYTES = 32
_KEY_FORMAT = re.compile(r"bsk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
# What an unknown or malformed key is compared against, so that every failure runs
# the same hash and the same constant-time compare as a wrong secret does.
_DUMMY_DIGEST = hashlib.sha256(b"beatstream: no such key").hexdigest()
# Longer than any key: refused before the regex even looks at it.
MAX_PRESENTED_LENGTH = 128
WWW_AUTHENTICATE = 'ApiKey realm="beatstream", header="X-API-Key"'


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invalid_key() -> UnauthorizedError:
    """One body for missing, malformed, unknown and revoked keys alike."""
    return UnauthorizedError(
        "a valid API key is required in the X-API-Key header",
        challenge=WWW_AUTHENTICATE,
    )


def missing_scope(view: str) -> ForbiddenError:
    scope = view_scope(view)
    return ForbiddenError(
        f"this API key lacks the scope {scope!r} (or {ALL_VIEWS_SCOPE!r}) to read view {view!r}",
        scope=scope,
    )


# Keys


async def create_key(
    name: str, scopes: Iterable[str], rate_limit_per_minute: int | None = None
) -> tuple[str, ApiKey]:
    """A new key: the plaintext (to show once) and the stored document (no secret in it).

    `rate_limit_per_minute` is the key's requests per rate-limit window (a minute unless
    `RATELIMIT_WINDOW_S` changes it); None uses `RATELIMIT_KEY_LIMIT`. Unknown scopes,
    a blank name or a limit below 1 raise `ValueError`.
    """
    name = name.strip()
    if not name:
        raise ValueError("the partner name must not be blank")
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise ValueError("the rate limit must be at least 1 request per window")
    key_id = secrets.token_hex(KEY_ID_HEX_DIGITS // 2)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey(
        key_id=key_id,
        name=name,
        scopes=normalize_scopes(scopes),
        secret_sha256=secret_digest(secret),
        rate_limit=rate_limit_per_minute,
    )
    await repository.insert_key(key)
    return f"{KEY_PREFIX}{key_id}_{secret}", key


async def revoke_key(key_id: str) -> bool:
    """True if the key existed and was live. Refused from then on by every process, or
    within `PARTNERS_KEY_CACHE_TTL_S` by one that had the key cached."""
    return await repository.revoke_key(key_id)


async def list_keys() -> list[ApiKey]:
    return await repository.list_keys()


class KeyCache:
    """Key records reused for `ttl_s` per process: the MongoDB lookup was most of what
    the key check cost (bench/apikey_overhead.py). Bounded both ways: a revoked key
    keeps working at most `ttl_s` on a process that had it cached, and at most
    `max_entries` records are kept (oldest dropped first).

    Only found records are kept, so a known key id answers faster than an unknown one.
    That reveals whether a 64-bit random id exists, never anything about a secret: the
    hash and compare run the same either way.
    """

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, ApiKey]] = {}

    async def find(self, key_id: str) -> ApiKey | None:
        if self.ttl_s <= 0:
            return await repository.find_key(key_id)
        now = time.monotonic()
        cached = self._entries.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = await repository.find_key(key_id)
        self._entries.pop(key_id, None)
        if record is not None:
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key_id] = (now + self.ttl_s, record)
        return record


async def authenticate(
    presented: str | None, cache: KeyCache | None = None
) -> tuple[PartnerKey, int | None]:
    """The key behind an `X-API-Key` value and its own rate limit, or the one 401.

    Every failure costs the same: a malformed key is hashed and compared against a
    dummy digest, an unknown one too (after the same point lookup a known one gets),
    a revoked one is compared before its revocation is looked at. What stays visible
    in timing is only whether the *format* is right, which is public anyway.
    """
    match = (
        _KEY_FORMAT.fullmatch(presented)
        if presented and len(presented) <= MAX_PRESENTED_LENGTH
        else None
    )
    find = cache.find if cache is not None else repository.find_key
    record = await find(match[1]) if match else None
    stored = record.secret_sha256 if record is not None else _DUMMY_DIGEST
    matches = compare_digest(secret_digest(match[2] if match else ""), stored)
    if not matches or record is None or record.revoked_at is not None:
        raise invalid_key()
    partner = PartnerKey(key_id=record.key_id, name=record.name, scopes=frozenset(record.scopes))
    return partner, record.rate_limit


def require_scope(key: PartnerKey, view: str) -> None:
    if ALL_VIEWS_SCOPE not in key.scopes and view_scope(view) not in key.scopes:
        raise missing_scope(view)


# Audit


async def record_pull(
    key: PartnerKey,
    *,
    view: str,
    filters: Mapping[str, str],
    rows: int,
    fmt: str,
    request_id: str | None,
) -> None:
    """One audit row per pull, written before the call returns.

    Errors propagate: for a JSON page the caller has not answered yet, so a pull that
    cannot be audited is not served (an error response, not the data); after an NDJSON
    stream the caller can only log it.
    """
    await repository.insert_audit(
        AuditEntry(
            key_id=key.key_id,
            key_name=key.name,
            view=view,
            filters={str(name): str(value) for name, value in filters.items()},
            rows=rows,
            format=fmt,
            request_id=request_id,
        )
    )
    PARTNER_PULLS.labels(view, fmt).inc()
    PARTNER_ROWS.labels(view, fmt).inc(rows)


async def audit_page(query: AuditQuery) -> Page[AuditEntryOut]:
    rows, next_cursor = await repository.audit_page(
        key_id=query.key_id,
        view=query.view,
        since=query.since,
        until=query.until,
        limit=query.limit,
        cursor=query.cursor,
    )
    return Page[AuditEntryOut](
        items=[AuditEntryOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )
