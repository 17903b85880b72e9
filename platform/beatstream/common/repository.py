"""Query helpers shared by the domain repositories: versioned writes and keyset pages.

Only repository modules call these; routers and services never build queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    return await deleted_version(model, doc_id, expected) is not None


async def deleted_version(
    model: type[D], doc_id: PydanticObjectId, expected: int | None
) -> int | None:
    """Delete (guarded like `versioned_update`); the version the document had, or None."""
    query: dict[str, Any] = {"_id": doc_id}
    if expected is not None:
        query["version"] = expected
    deleted = await model.get_pymongo_collection().find_one_and_delete(query, {"version": 1})
    if deleted is not None:
        return int(deleted.get("version", 0))
    await _raise_if_conflict(model, doc_id, expected)
    return None


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


async def keyset_rows(
    model: type[D], query: dict[str, Any], sort: SortSpec, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of raw rows matching `query` in `sort` order, plus the next page's cursor.

    Raw rows, not Beanie documents: list pages go straight into response models, and
    building full documents first costs 3x as much (bench/song_models.py).
    """
    if cursor is not None:
        value, last_id = decode_cursor(cursor, sort)
        after = after_cursor(sort, value, last_id)
        query = {"$and": [query, after]} if query else after
    found = model.get_pymongo_collection().find(query).sort(sort.mongo_sort).limit(limit + 1)
    rows: list[dict[str, Any]] = await found.to_list(limit + 1)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(sort, field_value(last, sort.field), last["_id"])


def summarize_plan(explained: Mapping[str, Any]) -> dict[str, Any]:
    """The stages and index names of a winning plan, whatever the server's nesting."""
    winning = explained.get("queryPlanner", {}).get("winningPlan", {})
    stages: list[str] = []
    indexes: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if "stage" in node:
                stages.append(str(node["stage"]))
            if "indexName" in node:
                indexes.append(str(node["indexName"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(winning)
    return {
        "stages": stages,
        "indexes": indexes,
        "collection_scan": "COLLSCAN" in stages,
        "winning_plan": winning,
    }


async def explain_find(
    model: type[D], query: dict[str, Any], sort: Sequence[tuple[str, Any]], limit: int
) -> dict[str, Any]:
    """The winning plan for a query exactly as an endpoint runs it (on a server with
    the `explain` capability; the caller checks)."""
    found = model.get_pymongo_collection().find(query).sort(list(sort)).limit(limit)
    return summarize_plan(await found.explain())
