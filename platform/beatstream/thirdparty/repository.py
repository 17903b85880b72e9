"""Every MongoDB query behind the third-party views, the feed and the key backfill.

Reads go through `_aggregate`, the one place that decides how a view definition runs:
against the real view, or as its pipeline over the base collection (see views.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from bson import ObjectId
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.command_cursor import AsyncCommandCursor

from beatstream.common.documents import utcnow
from beatstream.listeners.documents import Listener
from beatstream.stores.clients import MongoDocument
from beatstream.thirdparty.documents import ConsentWithdrawal
from beatstream.thirdparty.views import ActiveViews, Stage, ViewDefinition, ViewMode, ViewName

Row = dict[str, Any]
# A feed position: (time in ms, listener key, 0 for a row or 1 for a tombstone).
FeedPosition = tuple[int, str, int]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Scratch collections of pipeline-mode exports: `<prefix><unix seconds>_<random>`.
EXPORT_PREFIX = "thirdparty_export_"


def _collection(name: str) -> AsyncCollection[MongoDocument]:
    return Listener.get_pymongo_collection().database[name]


async def _aggregate(
    active: ActiveViews, view: ViewDefinition, paging: list[Stage], batch_size: int | None = None
) -> AsyncCommandCursor[MongoDocument]:
    """`paging` runs on the view's rows; for a per-row view run as a pipeline it goes
    right after the consent `$match`, so a page reads only its own documents."""
    source: str
    if active.mode is ViewMode.VIEW:
        source, pipeline = view.name, paging
    elif view.per_row:
        source, pipeline = view.base, [view.pipeline[0], *paging, *view.pipeline[1:]]
    else:
        source, pipeline = view.base, [*view.pipeline, *paging]
    options: dict[str, Any] = {} if batch_size is None else {"batchSize": batch_size}
    return await _collection(source).aggregate(pipeline, **options)


async def view_page(
    active: ActiveViews, name: ViewName, after: str | None, limit: int
) -> list[Row]:
    """Up to `limit + 1` rows after `after` in `sort_field` order (one more tells the
    caller whether there is a next page)."""
    view = active[name]
    paging: list[Stage] = [] if after is None else [{"$match": {view.sort_field: {"$gt": after}}}]
    paging += [{"$sort": {view.sort_field: 1}}, {"$limit": limit + 1}]
    return await (await _aggregate(active, view, paging)).to_list(None)


async def view_rows(active: ActiveViews, name: ViewName, batch_size: int) -> AsyncIterator[Row]:
    """Every row of the view, `batch_size` per round trip, unsorted (an export needs no
    order, and without a sort the server streams instead of sorting).

    A real view is read with `find` in batches. In pipeline mode the pipeline's result
    is first written server-side to a scratch collection (`$out`) and that is streamed:
    the stand-in answers an aggregation in one reply whatever `batchSize` says
    (measured: 5,000 rows in the first batch of `batchSize: 10`), which would put the
    whole view in this process's memory; it honours `batchSize` for `find`.
    """
    view = active[name]
    if active.mode is ViewMode.VIEW:
        async for row in _collection(view.name).find({}, {"_id": 0}).batch_size(batch_size):
            yield row
        return
    scratch = _collection(f"{EXPORT_PREFIX}{int(time.time())}_{uuid.uuid4().hex[:12]}")
    try:
        pipeline = [*view.pipeline, {"$out": scratch.name}]
        await (await _collection(view.base).aggregate(pipeline)).to_list(None)
        async for row in scratch.find({}, {"_id": 0}).batch_size(batch_size):
            yield row
    finally:
        # Also when the client went away mid-stream: the copy must not outlive the export.
        with anyio.CancelScope(shield=True):
            await scratch.drop()


async def drop_stale_exports(max_age_s: int) -> int:
    """Scratch copies left by a process that died mid-export (older than `max_age_s`)."""
    db = Listener.get_pymongo_collection().database
    dropped = 0
    for collection in await db.list_collection_names():
        stamp = collection.removeprefix(EXPORT_PREFIX).split("_", 1)[0]
        old = stamp.isdigit() and time.time() - int(stamp) > max_age_s
        if collection.startswith(EXPORT_PREFIX) and old:
            await db.drop_collection(collection)
            dropped += 1
    return dropped


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
