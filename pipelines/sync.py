"""Incremental sync of songs, MongoDB -> Elasticsearch, that loses nothing.

Two ways to see changes, chosen by what the server can do (capability
`change_streams`, detected once when the sync starts; logged):

- **change streams** (a replica set): inserts, updates and deletes in commit order; the
  resume token is saved after each applied batch. If the token has fallen out of the
  oplog, a full reindex into a new index runs first and the stream restarts from
  the position taken before it.
- **polling** (servers without change streams, like the local stand-in): songs whose
  `(updated_at, _id)` is past a saved watermark, plus the tombstones deletes leave.
  Changes younger than `settle_s` wait a little, so a write that took its timestamp
  before a later one but committed after it is not skipped.

Every write to Elasticsearch carries the MongoDB document's `version` as an external
version, so a replayed or late write can never overwrite a newer document, and a
delete (version one past the last) refuses any older write replayed after it for as
long as `index.gc_deletes` keeps the tombstone. The checkpoint moves only after every
item of the batch was applied or dead-lettered; delivery is at least once, and
replays are harmless.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bson import ObjectId
from elastic_transport import ConnectionError as EsConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.search.indices import SONGS, song_document
from beatstream.settings import ElasticsearchSettings
from beatstream.stores.capabilities import ServerCapabilities
from pipelines import checkpoints, dead_letters, metrics
from pipelines.bulk import BulkResult, delete_action, index_action, item_failures
from pipelines.checkpoints import Checkpoint
from pipelines.reindex import reindex_songs

logger = logging.getLogger(__name__)

SOURCE = "songs"
HISTORY_LOST_CODES = {136, 280, 286}  # CappedPositionLost, ChangeStreamFatalError, HistoryLost
Mode = Literal["auto", "polling", "change_stream"]
Row = dict[str, Any]
RETRYABLE = (EsConnectionError, ConnectionTimeout, PyMongoError)


@dataclass(frozen=True, slots=True)
class SyncOptions:
    batch_size: int = 500
    settle_s: float = 1.0
    idle_wait_s: float = 0.5
    max_backoff_s: float = 30.0


class Sync:
    """What every sync needs: both stores, where to write, the cache to invalidate."""

    def __init__(
        self,
        db: AsyncDatabase[Row],
        es: AsyncElasticsearch,
        config: ElasticsearchSettings,
        *,
        cache: ResponseCache | None = None,
        options: SyncOptions | None = None,
        capabilities: ServerCapabilities | None = None,
    ) -> None:
        """`capabilities`: the server's, when the caller has detected them already;
        otherwise detected when a mode has to be chosen."""
        self.db, self.es, self.config, self.cache = db, es, config, cache
        self.options = options or SyncOptions()
        self.capabilities = capabilities


class SongSync(Sync):
    @property
    def alias(self) -> str:
        return SONGS.alias(self.config.index_prefix)

    # Applying a batch -----------------------------------------------------------------

    async def apply(self, upserts: list[Row], deletes: list[tuple[str, int]]) -> BulkResult:
        """Write a batch with external versions; failures go to dead letters.

        Connection problems raise (the caller retries the whole batch); item-level
        rejections are the documents' own fault and are dead-lettered, not retried.
        """
        operations: list[dict[str, Any]] = []
        transform_failures: list[tuple[str, str]] = []
        for row in upserts:
            try:
                doc = song_document(row)
            except (KeyError, TypeError, ValueError) as exc:
                transform_failures.append((str(row.get("_id")), f"transform: {exc!r}"))
                continue
            operations += [index_action(self.alias, doc["id"], row), doc]
        operations += [delete_action(self.alias, doc_id, version) for doc_id, version in deletes]
        result = BulkResult()
        if operations:
            response = await self.es.bulk(operations=operations)
            result = item_failures(response.body)
        result.failed = transform_failures + result.failed
        await dead_letters.record(self.db, "sync", SOURCE, result.failed)
        if self.cache is not None and (upserts or deletes):
            await self.cache.invalidate(CacheNamespace.SONGS)
        return result

    # Polling ----------------------------------------------------------------------------

    async def poll_once(self, checkpoint: Checkpoint) -> int:
        """Apply one batch of changes past the watermark; the number of changes applied."""
        horizon = datetime.now(UTC) - timedelta(seconds=self.options.settle_s)
        limit = self.options.batch_size
        changed = (
            await self.db.songs.find(
                after_watermark("updated_at", checkpoint.changed_at, checkpoint.changed_id, horizon)
            )
            .sort([("updated_at", 1), ("_id", 1)])
            .limit(limit)
            .to_list(limit)
        )
        deleted = (
            await self.db.song_tombstones.find(
                after_watermark("deleted_at", checkpoint.deleted_at, checkpoint.deleted_id, horizon)
            )
            .sort([("deleted_at", 1), ("_id", 1)])
            .limit(limit)
            .to_list(limit)
        )
        if not changed and not deleted:
            metrics.caught_up(SOURCE)
            return 0
        with metrics.batch(SOURCE, len(changed) + len(deleted)):
            await self.apply(changed, [(str(t["song_id"]), int(t["version"])) for t in deleted])
        if changed:
            checkpoint.changed_at, checkpoint.changed_id = (
                changed[-1]["updated_at"],
                changed[-1]["_id"],
            )
        if deleted:
            checkpoint.deleted_at, checkpoint.deleted_id = (
                deleted[-1]["deleted_at"],
                deleted[-1]["_id"],
            )
        checkpoint.last_change_at = max(checkpoint.changed_at, checkpoint.deleted_at)
        checkpoint.applied += len(changed) + len(deleted)
        checkpoint.last_error = None
        checkpoint.mode = "polling"
        await checkpoints.save(self.db, checkpoint)
        metrics.applied(SOURCE, len(changed) + len(deleted), checkpoint.last_change_at)
        return len(changed) + len(deleted)

    async def catch_up(self) -> int:
        """Poll until nothing is left past the watermark (tests, `sync --once`)."""
        return await drain(self.db, SOURCE, self.poll_once)

    # Change streams ---------------------------------------------------------------------

    async def delete_version(self, doc_id: Any) -> int:
        """The version a delete must carry: the tombstone's, else one past the index's."""
        tombstone = await self.db.song_tombstones.find_one(
            {"song_id": doc_id}, sort=[("version", -1)]
        )
        if tombstone is not None:
            return int(tombstone["version"])
        current = await self.es.options(ignore_status=404).get(index=self.alias, id=str(doc_id))
        return int(current.get("_version", 0)) + 1

    async def _stream(self, stop: asyncio.Event) -> None:
        checkpoint = await checkpoints.load(self.db, SOURCE)
        options: dict[str, Any] = {"full_document": "updateLookup"}
        if checkpoint.resume_token is not None:
            options["resume_after"] = checkpoint.resume_token
        async with await self.db.songs.watch(**options) as stream:
            if checkpoint.resume_token is None:
                # First start: the stream's position is taken before copying everything,
                # so nothing written during the copy is missed.
                await reindex_songs(self.db, self.es, self.config, cache=self.cache)
            while not stop.is_set():
                batch: list[Mapping[str, Any]] = []
                while len(batch) < self.options.batch_size:
                    change = await stream.try_next()
                    if change is None:
                        break
                    batch.append(change)
                if batch:
                    await self._apply_changes(batch)
                    checkpoint.applied += len(batch)
                    checkpoint.last_change_at = datetime.now(UTC)
                token = stream.resume_token
                checkpoint.resume_token = dict(token) if token is not None else None
                checkpoint.mode, checkpoint.last_error = "change_stream", None
                await checkpoints.save(self.db, checkpoint)
                if batch:
                    metrics.applied(SOURCE, len(batch), _committed_at(batch[-1]))
                else:
                    metrics.caught_up(SOURCE)
                    await _wait(stop, self.options.idle_wait_s)

    async def _apply_changes(self, batch: list[Mapping[str, Any]]) -> None:
        upserts: dict[Any, Row] = {}
        deletes: dict[Any, int] = {}
        for change in batch:
            doc_id = change["documentKey"]["_id"]
            if change["operationType"] in {"insert", "update", "replace"}:
                if change.get("fullDocument") is not None:  # None: deleted since
                    upserts[doc_id] = change["fullDocument"]
                    deletes.pop(doc_id, None)
            elif change["operationType"] == "delete":
                upserts.pop(doc_id, None)
                deletes[doc_id] = await self.delete_version(doc_id)
        with metrics.batch(SOURCE, len(upserts) + len(deletes)):
            await self.apply(list(upserts.values()), [(str(k), v) for k, v in deletes.items()])

    # Following, with retries ------------------------------------------------------------

    async def choose_mode(self, mode: Mode) -> Literal["polling", "change_stream"]:
        if mode != "auto":
            return mode
        if self.capabilities is None:
            self.capabilities = await ServerCapabilities.detect(self.db.client)
        if not self.capabilities.change_streams:
            logger.warning("the server has no change streams: syncing by polling")
            return "polling"
        logger.info("syncing from change streams")
        return "change_stream"

    async def follow(self, stop: asyncio.Event, mode: Mode = "auto") -> None:
        """Apply changes until `stop` is set; store outages are retried with backoff."""
        chosen = await self.choose_mode(mode)
        metrics.mode_chosen(SOURCE, chosen)

        async def step() -> None:
            if chosen == "polling":
                await poll_until_stopped(stop, self.options, self.poll_once, SOURCE, self.db)
                return
            try:
                await self._stream(stop)
            except OperationFailure as exc:
                if exc.code not in HISTORY_LOST_CODES:
                    raise
                logger.warning("resume token lost from the oplog: full reindex, then resume")
                checkpoint = await checkpoints.load(self.db, SOURCE)
                checkpoint.resume_token = None
                await checkpoints.save(self.db, checkpoint)

        await run_with_backoff(stop, self.options, step, SOURCE, self.db)


async def drain(
    db: AsyncDatabase[dict[str, Any]],
    source: str,
    poll_once: Callable[[Checkpoint], Awaitable[int]],
) -> int:
    """Poll one source from its checkpoint until nothing is left past the watermark; how
    many changes were applied (the songs and the plays syncs share it)."""
    checkpoint = await checkpoints.load(db, source)
    total = 0
    while applied := await poll_once(checkpoint):
        total += applied
    return total


async def poll_until_stopped(
    stop: asyncio.Event,
    options: SyncOptions,
    poll_once: Callable[[Checkpoint], Awaitable[int]],
    source: str,
    db: AsyncDatabase[Row],
) -> None:
    checkpoint = await checkpoints.load(db, source)
    while not stop.is_set():
        if not await poll_once(checkpoint):
            await _wait(stop, options.idle_wait_s)


async def run_with_backoff(
    stop: asyncio.Event,
    options: SyncOptions,
    step: Callable[[], Awaitable[None]],
    source: str,
    db: AsyncDatabase[Row],
) -> None:
    """Run `step` until `stop`; an unreachable store pauses it with jittered backoff."""
    backoff = 0.5
    while not stop.is_set():
        try:
            await step()
            backoff = 0.5
        except (*RETRYABLE, ApiError) as exc:
            logger.warning("%s sync paused, retrying in %.1fs: %r", source, backoff, exc)
            metrics.retried(source)
            await _record_error(db, source, repr(exc))
            await _wait(stop, backoff * (0.5 + random.random()))  # noqa: S311 - jitter
            backoff = min(backoff * 2, options.max_backoff_s)


def after_watermark(field: str, at: datetime, last_id: Any, horizon: datetime) -> dict[str, Any]:
    """Rows strictly past (at, last_id) in (field, _id) order, and no younger than horizon."""
    past: dict[str, Any] = (
        {"$or": [{field: {"$gt": at}}, {field: at, "_id": {"$gt": last_id}}]}
        if isinstance(last_id, ObjectId)
        else {field: {"$gte": at}}
    )
    return {"$and": [past, {field: {"$lte": horizon}}]}


def _committed_at(change: Mapping[str, Any]) -> datetime | None:
    """When a change event's write was committed: `wallTime` (MongoDB 6+), else the
    seconds of its `clusterTime`; None when the event has neither."""
    wall = change.get("wallTime")
    if isinstance(wall, datetime):
        return wall if wall.tzinfo else wall.replace(tzinfo=UTC)
    cluster = change.get("clusterTime")
    return datetime.fromtimestamp(cluster.time, UTC) if cluster is not None else None


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return


async def _record_error(db: AsyncDatabase[Row], source: str, error: str) -> None:
    try:
        await checkpoints.record_error(db, source, error)
    except PyMongoError:
        logger.warning("could not record the sync error in MongoDB either")
