"""Query helpers shared by the domain repositories: versioned writes and keyset pages.

Only repository modules call these; routers and services never build queries.
"""

from __future__ import annotations

from typing import Any, TypeVar

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from beatstream.common.documents import VersionedDocument, utcnow
from beatstream.common.pagination import (
    SortSpec,
    after_cursor,
    decode_cursor,
    encode_cursor,
    field_value,
)
from beatstream.errors import PreconditionFailedError

D = TypeVar("D", bound=VersionedDocument)


async def versioned_update(
    model: type[D], doc_id: PydanticObjectId, changes: dict[str, Any], expected: int | None
) -> D | None:
    """Apply `$set` changes and bump `version` atomically; None if there is no such document.

    With `expected`, the write happens only if the stored version still equals it;
    otherwise 412, and nothing is written.
    """
    query: dict[str, Any] = {"_id": doc_id}
    if expected is not None:
        query["version"] = expected
    raw = await model.get_pymongo_collection().find_one_and_update(
        query,
        {"$set": {**changes, "updated_at": utcnow()}, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if raw is None:
        await _raise_if_conflict(model, doc_id, expected)
        return None
    document: D = model.model_validate(raw)
    return document


async def versioned_delete(model: type[D], doc_id: PydanticObjectId, expected: int | None) -> bool:
    query: dict[str, Any] = {"_id": doc_id}
    if expected is not None:
        query["version"] = expected
    result = await model.get_pymongo_collection().delete_one(query)
    if result.deleted_count:
        return True
    await _raise_if_conflict(model, doc_id, expected)
    return False


async def _raise_if_conflict(
    model: type[D], doc_id: PydanticObjectId, expected: int | None
) -> None:
    """A write matched nothing: 412 if the document exists at another version."""
    current = await model.get_pymongo_collection().find_one({"_id": doc_id}, {"version": 1})
    if current is None:
        return
    raise PreconditionFailedError(
        f"version {expected} is not current (the document is at version {current.get('version')});"
        " read it again and retry"
    )


async def keyset_page(
    model: type[D], query: dict[str, Any], sort: SortSpec, limit: int, cursor: str | None
) -> tuple[list[D], str | None]:
    """One page of `model` matching `query` in `sort` order, plus the next page's cursor."""
    if cursor is not None:
        value, last_id = decode_cursor(cursor, sort)
        query = (
            {"$and": [query, after_cursor(sort, value, last_id)]}
            if query
            else after_cursor(sort, value, last_id)
        )
    items = await model.find(query).sort(sort.mongo_sort).limit(limit + 1).to_list()
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    last = items[-1]
    assert last.id is not None
    return items, encode_cursor(sort, field_value(last, sort.field), last.id)
