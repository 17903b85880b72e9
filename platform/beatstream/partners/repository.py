"""Every MongoDB query of API keys and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId, SortDirection
from pymongo import ASCENDING
from pymongo.errors import OperationFailure

from beatstream.common.documents import utcnow
from beatstream.common.pagination import SortSpec, after_cursor, decode_cursor, encode_cursor
from beatstream.partners.documents import ApiKey, AuditEntry

NEWEST_FIRST = SortSpec("-at", "at", descending=True)
RETENTION_INDEX = "at_ttl"


# Keys


async def insert_key(key: ApiKey) -> ApiKey:
    return await key.insert()


async def find_key(key_id: str) -> ApiKey | None:
    """The one read of every authenticated request: a unique-index point lookup."""
    return await ApiKey.find_one({"key_id": key_id})


async def list_keys() -> list[ApiKey]:
    return await (
        ApiKey.find_all()
        .sort([("created_at", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)])
        .to_list()
    )


async def revoke_key(key_id: str) -> bool:
    """Stamp `revoked_at` once; False if there is no such key or it was already revoked."""
    result = await ApiKey.get_pymongo_collection().update_one(
        {"key_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": utcnow()}}
    )
    return result.modified_count == 1


# Audit log


async def insert_audit(entry: AuditEntry) -> None:
    """A plain `insert_one`: one round trip, no Beanie hooks. The id is made here, so rows
    of one millisecond still sort in the order they were written (the keyset tie-break)."""
    entry.id = PydanticObjectId()
    await AuditEntry.get_pymongo_collection().insert_one(entry.model_dump(by_alias=True))


async def audit_page(
    *,
    key_id: str | None,
    view: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; an equality on key or view plus the time range keeps each page one
    range scan of `key_at_id`, `view_at_id` or `at_id`. With both key and view, the key
    index is used and the view filtered: one key's pulls are few."""
    clauses: list[dict[str, Any]] = []
    if key_id is not None:
        clauses.append({"key_id": key_id})
    if view is not None:
        clauses.append({"view": view})
    at: dict[str, datetime] = {}
    if since is not None:
        at["$gte"] = since
    if until is not None:
        at["$lt"] = until
    if at:
        clauses.append({"at": at})
    if cursor is not None:
        value, last_id = decode_cursor(cursor, NEWEST_FIRST)
        clauses.append(after_cursor(NEWEST_FIRST, value, last_id))
    query: dict[str, Any] = {"$and": clauses} if clauses else {}
    found = (
        AuditEntry.get_pymongo_collection()
        .find(query)
        .sort(NEWEST_FIRST.mongo_sort)
        .limit(limit + 1)
    )
    rows: list[dict[str, Any]] = await found.to_list(limit + 1)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(NEWEST_FIRST, last["at"], last["_id"])


async def ensure_audit_retention(days: int) -> None:
    """A TTL index on `at` matching the configured retention (none when `days` is 0).

    Dropped and re-created when the period changes: `collMod` would be one call, but
    not every MongoDB-wire server has it, and a start-up is the only time this runs.
    """
    collection = AuditEntry.get_pymongo_collection()
    wanted = days * 86_400
    existing = (await collection.index_information()).get(RETENTION_INDEX)
    if existing is not None and existing.get("expireAfterSeconds") == wanted and days:
        return
    if existing is not None:
        await collection.drop_index(RETENTION_INDEX)
    if days:
        try:
            await collection.create_index(
                [("at", ASCENDING)], name=RETENTION_INDEX, expireAfterSeconds=wanted
            )
        except OperationFailure as exc:
            raise RuntimeError(f"cannot create the audit retention index: {exc}") from exc
