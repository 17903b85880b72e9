"""Every MongoDB query of listeners and play events."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from beanie import PydanticObjectId
from bson import Decimal128
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from beatstream.catalog.documents import Song
from beatstream.common.documents import utcnow
from beatstream.common.pagination import SortSpec, after_cursor, decode_cursor, encode_cursor
from beatstream.common.repository import versioned_delete, versioned_update
from beatstream.errors import ConflictError, PreconditionFailedError
from beatstream.listeners.documents import (
    Listener,
    ListenerErasure,
    PlayEvent,
    SubscriptionAction,
)

# Newest first, ties broken by `_id`: the order of both play indexes.
PLAYS_NEWEST_FIRST = SortSpec("-played_at", "played_at", descending=True)


def email_taken() -> ConflictError:
    # The address is not echoed: problem bodies end up in client logs.
    return ConflictError("a listener with this email is already registered")


# Listeners


async def insert_listener(listener: Listener) -> Listener:
    """The unique index decides, not a read-then-insert that two requests could race."""
    try:
        return await listener.insert()
    except DuplicateKeyError as exc:
        raise email_taken() from exc


async def get_listener(listener_id: PydanticObjectId) -> Listener | None:
    return await Listener.get(listener_id)


async def update_listener(
    listener_id: PydanticObjectId, changes: dict[str, Any], expected: int | None
) -> Listener | None:
    try:
        return await versioned_update(Listener, listener_id, changes, expected)
    except DuplicateKeyError as exc:
        raise email_taken() from exc


async def push_action(
    listener_id: PydanticObjectId, action: SubscriptionAction, expected: int | None
) -> Listener | None:
    """Append one action and bump the version in one atomic update (412 if `expected` is stale).

    `$push` rather than read-modify-write: two actions sent at once both land.
    """
    query: dict[str, Any] = {"_id": listener_id}
    if expected is not None:
        query["version"] = expected
    raw = await Listener.get_pymongo_collection().find_one_and_update(
        query,
        {
            "$push": {"actions": _action_document(action)},
            "$set": {"updated_at": utcnow()},
            "$inc": {"version": 1},
        },
        return_document=ReturnDocument.AFTER,
    )
    if raw is not None:
        listener: Listener = Listener.model_validate(raw)
        return listener
    current = await Listener.get_pymongo_collection().find_one({"_id": listener_id}, {"version": 1})
    if current is None:
        return None
    raise PreconditionFailedError(
        f"version {expected} is not current (the listener is at version {current['version']});"
        " read it again and retry"
    )


def _action_document(action: SubscriptionAction) -> dict[str, Any]:
    """What Beanie would store for the action: the amount as Decimal128, not a float."""
    document = action.model_dump()
    if isinstance(document["amount"], Decimal):
        document["amount"] = Decimal128(document["amount"])
    return document


async def delete_listener(listener_id: PydanticObjectId, expected: int | None) -> bool:
    return await versioned_delete(Listener, listener_id, expected)


async def record_erasure(listener_id: PydanticObjectId) -> None:
    await ListenerErasure(listener_id=listener_id).insert()


async def delete_plays_of(listener_id: PydanticObjectId) -> int:
    """Erase a listener's play history (through the `listener_played_id` index)."""
    result = await PlayEvent.get_pymongo_collection().delete_many({"listener_id": listener_id})
    return int(result.deleted_count)


# Existence checks: one `$in` query per collection, however many ids


async def existing_listener_ids(ids: Iterable[PydanticObjectId]) -> set[PydanticObjectId]:
    return await _existing_ids(Listener, ids)


async def existing_song_ids(ids: Iterable[PydanticObjectId]) -> set[PydanticObjectId]:
    return await _existing_ids(Song, ids)


async def _existing_ids(
    model: type[Listener] | type[Song], ids: Iterable[PydanticObjectId]
) -> set[PydanticObjectId]:
    wanted = list(set(ids))
    if not wanted:
        return set()
    cursor = model.get_pymongo_collection().find({"_id": {"$in": wanted}}, {"_id": 1})
    return {PydanticObjectId(row["_id"]) async for row in cursor}


# Plays


async def insert_plays(plays: list[PlayEvent]) -> int:
    """One `insert_many`, unordered: the server may write in parallel and does not stop
    at the first failure. Ids are assigned here so the caller has them."""
    documents = []
    for play in plays:
        play.id = PydanticObjectId()
        documents.append(play.model_dump(by_alias=True))
    result = await PlayEvent.get_pymongo_collection().insert_many(documents, ordered=False)
    return len(result.inserted_ids)


async def plays_of_listener(
    listener_id: PydanticObjectId, limit: int, cursor: str | None
) -> tuple[list[PlayEvent], str | None]:
    return await _plays_page({"listener_id": listener_id}, limit, cursor)


async def plays_of_song(
    song_id: PydanticObjectId, limit: int, cursor: str | None
) -> tuple[list[PlayEvent], str | None]:
    return await _plays_page({"song_id": song_id}, limit, cursor)


async def _plays_page(
    query: dict[str, Any], limit: int, cursor: str | None
) -> tuple[list[PlayEvent], str | None]:
    """A keyset page over (played_at desc, _id desc) under an equality prefix: the shape
    of both play indexes, so each page is one index range scan, however deep."""
    sort = PLAYS_NEWEST_FIRST
    if cursor is not None:
        value, last_id = decode_cursor(cursor, sort)
        query = {"$and": [query, after_cursor(sort, value, last_id)]}
    items = await PlayEvent.find(query).sort(sort.mongo_sort).limit(limit + 1).to_list()
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    last = items[-1]
    assert last.id is not None
    return items, encode_cursor(sort, last.played_at, last.id)
