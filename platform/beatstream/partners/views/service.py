"""Third-party rules: pages with sealed cursors, the change feed, streamed exports, and
what a listener leaving the views (consent withdrawn, erasure) sets in motion.

Every row goes through its allow-list model before it is serialised. JSON pages and
feed pages are cached in Redis (namespace `CacheNamespace.THIRDPARTY`); a listener leaving the views
bumps that namespace at once, so no cached answer that contained them is served again.
Other changes (a new consenting listener, an added action) show within the TTL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import orjson
from beanie import PydanticObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.common.inputs import OutputModel
from beatstream.errors import InvalidInputError
from beatstream.listeners.documents import Listener
from beatstream.partners.schemas import PartnerKey
from beatstream.partners.service import record_pull
from beatstream.partners.views import repository
from beatstream.partners.views.definitions import ActiveViews, ViewName, build_views, ensure_views
from beatstream.partners.views.pseudonyms import InvalidTokenError, Pseudonyms
from beatstream.partners.views.repository import EPOCH, FeedPosition
from beatstream.partners.views.schemas import (
    FEED_START,
    ChangesPage,
    ListenerActionsRow,
    ListenerChange,
    PlayStatsRow,
    Removal,
    SubscriptionsRow,
    ViewFormat,
    ViewQuery,
)
from beatstream.stores.capabilities import ServerCapabilities
from beatstream.stores.clients import MongoDocument

logger = logging.getLogger(__name__)

# Rows per MongoDB round trip of an export, and lines per chunk written to the socket.
EXPORT_BATCH = 1000
# Rows per keyset page where the server's aggregations do not stream (the stand-in):
# bigger pages mean fewer scans there, smaller ones less memory.
EXPORT_PAGE = 5000
EXPORT_CHUNK = 500

ROW_MODELS: dict[ViewName, type[OutputModel]] = {
    ViewName.LISTENER_ACTIONS: ListenerActionsRow,
    ViewName.SUBSCRIPTIONS_BY_MONTH: SubscriptionsRow,
    ViewName.PLAY_STATS: PlayStatsRow,
}


def query_error(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(field, message, location="query")


def check_query(view: ViewName, query: ViewQuery) -> None:
    """Combinations the model alone cannot refuse, each a 422 naming the parameter."""
    if query.changes_since is not None and view is not ViewName.LISTENER_ACTIONS:
        raise query_error("changes_since", "only listener_actions has a change feed")
    if query.changes_since is not None and query.cursor is not None:
        raise query_error("cursor", "a feed continues with changes_since alone")
    if query.format is ViewFormat.NDJSON and query.cursor is not None:
        raise query_error("cursor", "an NDJSON export is always the whole view")
    if query.format is ViewFormat.NDJSON and query.changes_since is not None:
        raise query_error("changes_since", "the change feed is JSON only")


# Start-up


async def start_views(
    db: AsyncDatabase[MongoDocument], capabilities: ServerCapabilities, min_group_size: int
) -> ActiveViews:
    """At start: real views where the server has them (`ensure_views`), and whether
    exports may stream one aggregation or must go page by page."""
    active = await ensure_views(
        db, build_views(min_group_size), server_has_views=capabilities.views
    )
    return replace(active, streams_aggregations=capabilities.aggregate_batches)


# Sealed cursors: opaque, bound to their view, unforgeable (see pseudonyms.py)


def _seal(pseudonyms: Pseudonyms, payload: dict[str, Any]) -> str:
    return pseudonyms.seal(orjson.dumps(payload))


def _unseal(pseudonyms: Pseudonyms, token: str, field: str, view: ViewName) -> dict[str, Any]:
    try:
        payload = orjson.loads(pseudonyms.unseal(token))
    except (InvalidTokenError, orjson.JSONDecodeError) as exc:
        raise query_error(field, "not a cursor this API issued") from exc
    if not isinstance(payload, dict) or payload.get("v") != view:
        raise query_error(field, "this cursor belongs to another view or feed")
    return payload


def page_after(pseudonyms: Pseudonyms, view: ViewName, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    after = _unseal(pseudonyms, cursor, "cursor", view).get("a")
    if not isinstance(after, str):
        raise query_error("cursor", "this is a feed cursor: pass it as changes_since")
    return after


def feed_position(pseudonyms: Pseudonyms, changes_since: str) -> FeedPosition | None:
    if changes_since == FEED_START:
        return None
    raw = _unseal(pseudonyms, changes_since, "changes_since", ViewName.LISTENER_ACTIONS).get("f")
    if (
        not isinstance(raw, list)
        or len(raw) != 3
        or not isinstance(raw[0], int)
        or not isinstance(raw[1], str)
        or raw[2] not in (0, 1)
    ):
        raise query_error("changes_since", "this is a page cursor: pass it as cursor")
    return raw[0], raw[1], raw[2]


# Pages


async def page_body(
    active: ActiveViews, pseudonyms: Pseudonyms, view: ViewName, after: str | None, limit: int
) -> bytes:
    rows = await repository.view_page(active, view, after, limit)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][active[view].sort_field]
        next_cursor = _seal(pseudonyms, {"v": view, "a": last})
    model = ROW_MODELS[view]
    items = [model.model_validate(row).model_dump(mode="json") for row in rows]
    return orjson.dumps({"view": view, "items": items, "next_cursor": next_cursor})


def _millis(moment: datetime) -> int:
    """Exact integer milliseconds (MongoDB's precision); no float rounding."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1)


async def changes_body(
    active: ActiveViews, pseudonyms: Pseudonyms, position: FeedPosition | None, limit: int
) -> bytes:
    """Changed rows and removals after `position`, merged in (time, key, kind) order.

    Each source is read up to `limit` past the position, so the first `limit` of the
    merge are exactly the next `limit` changes of the combined stream.
    """
    changed = await repository.changed_listeners(active, position, limit)
    removed = await repository.withdrawals_after(position, limit)
    merged: list[tuple[FeedPosition, ListenerChange | Removal]] = [
        ((_millis(row["updated_at"]), row["listener_key"], 0), ListenerChange.model_validate(row))
        for row in changed
    ]
    merged += [
        ((_millis(row["at"]), row["listener_key"], 1), Removal.model_validate(row))
        for row in removed
    ]
    merged.sort(key=lambda item: item[0])
    merged = merged[:limit]
    last = merged[-1][0] if merged else (position or (0, "", 0))
    page = ChangesPage(
        items=[item for _, item in merged],
        next_cursor=_seal(pseudonyms, {"v": ViewName.LISTENER_ACTIONS, "f": list(last)}),
    )
    return page.model_dump_json().encode()


def rows_in(body: bytes) -> int:
    """How many rows a cached page holds (for the audit log); pages are small."""
    items = orjson.loads(body).get("items", [])
    return len(items) if isinstance(items, list) else 0


# Export


@dataclass
class ExportCount:
    """Rows written so far: read after the stream ends (or breaks) for the audit log."""

    rows: int = 0


async def export_lines(
    active: ActiveViews, view: ViewName, count: ExportCount
) -> AsyncIterator[bytes]:
    """The whole view as NDJSON, in chunks: memory holds one batch, however big the view."""
    model = ROW_MODELS[view]
    chunk: list[bytes] = []
    async for row in repository.view_rows(active, view, EXPORT_BATCH, EXPORT_PAGE):
        chunk.append(model.model_validate(row).model_dump_json().encode())
        if len(chunk) >= EXPORT_CHUNK:
            yield b"\n".join(chunk) + b"\n"
            count.rows += len(chunk)
            chunk = []
    if chunk:
        yield b"\n".join(chunk) + b"\n"
        count.rows += len(chunk)


async def audited_export(
    active: ActiveViews,
    view: ViewName,
    partner: PartnerKey,
    filters: Mapping[str, str],
    request_id: str | None,
) -> AsyncIterator[bytes]:
    """`export_lines`, then one audit row with the rows really sent, also when the
    client went away mid-stream (shielded: the stream's cancellation must not skip it).
    The response has started by then, so an audit failure can only be logged."""
    count = ExportCount()
    try:
        async for chunk in export_lines(active, view, count):
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            try:
                await record_pull(
                    partner,
                    view=view,
                    filters=filters,
                    rows=count.rows,
                    fmt=ViewFormat.NDJSON,
                    request_id=request_id,
                )
            except Exception:
                logger.exception("audit of an NDJSON export failed", extra={"view": view})


# Listener-side hooks (called through `beatstream.flows`, never by listeners itself)


def assign_listener_key(listener: Listener, pseudonyms: Pseudonyms) -> None:
    """Give a listener about to be inserted its id now, and the key derived from it."""
    if listener.id is None:
        listener.id = PydanticObjectId()
    listener.listener_key = pseudonyms.listener_key(listener.id)


async def listener_left(listener_key: str | None, cache: ResponseCache) -> None:
    """Consent withdrawn or listener erased: log the removal for the feed, then make
    every cached third-party answer unreachable (they may contain the listener)."""
    if listener_key is None:
        return
    await repository.record_withdrawal(listener_key)
    await cache.invalidate(CacheNamespace.THIRDPARTY)


async def backfill_listener_keys(pseudonyms: Pseudonyms, batch_size: int = 1000) -> int:
    """Key every listener written without one (before this feature, or by a bulk load
    without the secret), `batch_size` per round trip. Returns how many were keyed."""
    total = 0
    while ids := await repository.listeners_without_key(batch_size):
        written = await repository.set_listener_keys({i: pseudonyms.listener_key(i) for i in ids})
        if written == 0:
            break
        total += written
    return total
