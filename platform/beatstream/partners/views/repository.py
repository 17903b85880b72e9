"""Every MongoDB query behind the third-party views, the feed and the key backfill.

Reads go through `_aggregate`, the one place that decides how a view definition runs:
against the real view, or as its pipeline over the base collection (see views.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.raw_bson import RawBSONDocument
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.command_cursor import AsyncCommandCursor

from beatstream.common.documents import utcnow
from beatstream.listeners.documents import Listener
from beatstream.partners.views.definitions import (
    ActiveViews,
    Stage,
    ViewDefinition,
    ViewMode,
    ViewName,
)
from beatstream.partners.views.documents import ConsentWithdrawal
from beatstream.stores.clients import MongoDocument

Row = dict[str, Any]
# A feed position: (time in ms, listener key, 0 for a row or 1 for a tombstone).
FeedPosition = tuple[int, str, int]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _collection(name: str) -> AsyncCollection[MongoDocument]:
    return Listener.get_pymongo_collection().database[name]


def _plan(
    active: ActiveViews, view: ViewDefinition, paging: list[Stage]
) -> tuple[AsyncCollection[MongoDocument], list[Stage]]:
    """Where a read of the view runs, and its stages. `paging` runs on the view's rows;
    for a per-row view run as a pipeline it goes right after the consent `$match`, so
    a page reads only its own documents."""
    if active.mode is ViewMode.VIEW:
        return _collection(view.name), paging
    if view.per_row:
        return _collection(view.base), [view.pipeline[0], *paging, *view.pipeline[1:]]
    return _collection(view.base), [*view.pipeline, *paging]


async def _aggregate(
    active: ActiveViews, view: ViewDefinition, paging: list[Stage]
) -> AsyncCommandCursor[MongoDocument]:
    source, pipeline = _plan(active, view, paging)
    return await source.aggregate(pipeline)


async def view_page(
    active: ActiveViews, name: ViewName, after: str | None, limit: int
) -> list[Row]:
    """Up to `limit + 1` rows after `after` in `sort_field` order (one more tells the
    caller whether there is a next page)."""
    view = active[name]
    return await (await _aggregate(active, view, _keyset(view, after, limit + 1))).to_list(None)


def _keyset(view: ViewDefinition, after: str | None, limit: int) -> list[Stage]:
    """Up to `limit` rows after `after`, in `sort_field` order."""
    paging: list[Stage] = [] if after is None else [{"$match": {view.sort_field: {"$gt": after}}}]
    return [*paging, {"$sort": {view.sort_field: 1}}, {"$limit": limit}]


def _raw(source: AsyncCollection[MongoDocument]) -> AsyncCollection[MongoDocument]:
    """Rows as `RawBSONDocument`s: each decoded only when read, released once consumed."""
    return source.with_options(
        codec_options=source.codec_options.with_options(document_class=RawBSONDocument)
    )


async def view_rows(
    active: ActiveViews, name: ViewName, batch_size: int, page_size: int
) -> AsyncIterator[Row]:
    """Every row of the view, holding one batch (or one page) in memory at a time.

    MongoDB honours `batchSize`, so one unsorted aggregation streams the whole view
    (without a sort the server streams instead of sorting). The stand-in answers an
    aggregation in one reply whatever `batchSize` asks (capability
    `aggregate_batches`; measured: 5,000 rows in the first batch of `batchSize: 10`),
    which would put the whole view in memory at once: there a per-row view is read
    in keyset pages of `page_size` instead, the same paging the JSON pages use. An
    aggregate view's rows are groups, few however many listeners there are.
    """
    view = active[name]
    if active.streams_aggregations or not view.per_row:
        source, pipeline = _plan(active, view, [])
        cursor = await _raw(source).aggregate(pipeline, batchSize=batch_size)
        async with cursor:
            async for row in cursor:
                yield row
        return
    after: str | None = None
    while True:
        source, pipeline = _plan(active, view, _keyset(view, after, page_size))
        page = await (await _raw(source).aggregate(pipeline)).to_list(None)
        for row in page:
            yield row
        if len(page) < page_size:
            return
        after = page[-1][view.sort_field]


def _after(time_field: str, position: FeedPosition | None, kind: int) -> list[Stage]:
    """Strictly after `position` in (time, key, kind) order, for rows of `kind`."""
    if position is None:
        return []
    millis, key, last_kind = position
    at = EPOCH + timedelta(milliseconds=millis)
    key_op = "$gte" if kind > last_kind else "$gt"
    return [
        {
            "$match": {
                "$or": [
                    {time_field: {"$gt": at}},
                    {time_field: at, "listener_key": {key_op: key}},
                ]
            }
        }
    ]


async def changed_listeners(
    active: ActiveViews, position: FeedPosition | None, limit: int
) -> list[Row]:
    """`listener_actions` rows changed after `position`, oldest change first."""
    paging = [
        *_after("updated_at", position, 0),
        {"$sort": {"updated_at": 1, "listener_key": 1}},
        {"$limit": limit},
    ]
    cursor = await _aggregate(active, active[ViewName.LISTENER_ACTIONS], paging)
    return await cursor.to_list(None)


async def withdrawals_after(position: FeedPosition | None, limit: int) -> list[Row]:
    """Departures (consent withdrawn or listener erased) after `position`, oldest first."""
    pipeline = [
        *_after("at", position, 1),
        {"$sort": {"at": 1, "listener_key": 1}},
        {"$limit": limit},
        {"$project": {"_id": 0, "listener_key": 1, "at": 1}},
    ]
    cursor = await ConsentWithdrawal.get_pymongo_collection().aggregate(pipeline)
    return await cursor.to_list(None)


async def record_withdrawal(listener_key: str) -> None:
    await ConsentWithdrawal(listener_key=listener_key).insert()


# Backfill of pseudonymous keys


async def listeners_without_key(limit: int) -> list[ObjectId]:
    """`listener_key: None` matches both a stored null and a missing field."""
    cursor = Listener.get_pymongo_collection().find({"listener_key": None}, {"_id": 1}).limit(limit)
    return [row["_id"] async for row in cursor]


async def set_listener_keys(keys: dict[ObjectId, str]) -> int:
    """One unordered bulk write. Only a still-keyless listener is touched, and it gets a
    new `updated_at` and version: it has just entered the views, and the feed must say so."""
    now = utcnow()
    result = await Listener.get_pymongo_collection().bulk_write(
        [
            UpdateOne(
                {"_id": listener_id, "listener_key": None},
                {"$set": {"listener_key": key, "updated_at": now}, "$inc": {"version": 1}},
            )
            for listener_id, key in keys.items()
        ],
        ordered=False,
    )
    return int(result.modified_count)
