"""Full rebuild of the monthly play indices: a new generation, one alias swap, old dropped.

Plays live in one index per month behind the read alias `{prefix}-plays`. A rebuild
cannot swap month by month (readers would see some months twice or not at all), so
it builds a whole new **generation** of monthly indices beside the live one:

1. Take a snapshot watermark: every play whose `_id` is older than `settle_s` ago
   (committed by now, as the sync assumes). Stream those from MongoDB, transform them
   and bulk-index them into `{prefix}-plays-v1-g<generation>-YYYY.MM`. The build
   template gives these indices the mapping, no refreshes, no replicas, and no alias:
   readers cannot see a half-built month.
2. Restore the settings, refresh, and verify: the generation holds exactly the
   snapshot's plays minus the dead-lettered ones. Otherwise the new generation is
   deleted and the live one keeps serving.
3. Make the new generation live: the alias template's patterns move to it (months the
   sync creates from now on join the alias), then ONE `_aliases` call removes the
   alias from every old month and adds it to every new one.
4. Catch up: the plays past the snapshot watermark are indexed into the new
   generation (the sync, which looks the generation up on every batch, may write the
   same plays too: both index each play under its id, so nothing doubles), and the
   erasures logged since the start are applied again (the build may have copied a
   play just before its listener's erasure deleted it).
5. Drop every other play index under the prefix: the old generation, and strays.
6. Bump the `plays` cache namespace: no answer computed from the old generation (or
   from the new one before its catch-up) is served again.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.search.indices import (
    alias_targets,
    ensure_plays_template,
    finish_bulk_load,
    new_plays_generation,
    plays_alias,
    plays_generation_of,
    plays_generation_patterns,
    plays_indices,
)
from beatstream.settings import ElasticsearchSettings
from pipelines.bulk import BulkResult
from pipelines.invalidation import invalidate
from pipelines.reindex import Progress, ReindexError, ReindexReport, bulk_load
from pipelines.sync import SyncOptions
from pipelines.sync_plays import ERASURES, SOURCE, PlaySync, erase_listeners, play_operations


async def reindex_plays(
    db: AsyncDatabase[dict[str, Any]],
    es: AsyncElasticsearch,
    config: ElasticsearchSettings,
    *,
    cache: ResponseCache | None,
    batch_size: int = 2000,
    concurrency: int = 2,
    settle_s: float = 1.0,
    progress: Progress | None = None,
) -> ReindexReport:
    """`cache`: see `reindex_songs` (required, so no caller forgets it)."""
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    prefix = config.index_prefix
    await ensure_plays_template(es, config)
    generation = new_plays_generation()
    (pattern,) = plays_generation_patterns(prefix, generation)
    ids, past = await _snapshot(db, started_at, settle_s)
    snapshot = {"_id": ids}
    erased_since = started_at - timedelta(seconds=settle_s)
    source_count = await db.play_events.count_documents(snapshot)
    transform_failures: list[tuple[str, str]] = []

    async def chunks() -> AsyncIterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        # Natural order: a full copy needs no sort (months are routed per play).
        async for play in db.play_events.find(snapshot).batch_size(batch_size):
            batch.append(play)
            if len(batch) == batch_size:
                operations, failures = await play_operations(db, prefix, generation, batch)
                transform_failures.extend(failures)
                yield operations
                batch = []
        if batch:
            operations, failures = await play_operations(db, prefix, generation, batch)
            transform_failures.extend(failures)
            yield operations

    try:
        failures, recorded = await bulk_load(
            es,
            db,
            chunks(),
            source=SOURCE,
            transform_failures=transform_failures,
            progress=progress,
            concurrency=concurrency,
        )
        built = await _generation_indices(es, prefix, generation)
        indexed = 0
        if built:
            await finish_bulk_load(es, config, pattern)
            await _erase_since(db, es, pattern, erased_since)
            await es.indices.refresh(index=pattern)
            indexed = int((await es.count(index=pattern))["count"])
        expected = await _plays_to_index(db, snapshot) - len(failures)
        if indexed != expected:
            raise ReindexError(f"{pattern} holds {indexed} plays, expected {expected}")
    except BaseException:
        # By name: deleting by wildcard is refused (`action.destructive_requires_name`).
        if half_built := await _generation_indices(es, prefix, generation):
            await es.indices.delete(index=",".join(half_built), ignore_unavailable=True)
        raise
    await _swap(es, config, generation, built)
    sync = PlaySync(db, es, config, options=SyncOptions(batch_size=batch_size))
    await _catch_up(sync, past, erased_since)
    stale = [i for i, g in (await plays_indices(es, prefix)).items() if g != generation]
    if stale:
        await es.indices.delete(index=",".join(stale), ignore_unavailable=True)
    invalidated = await invalidate(cache, CacheNamespace.PLAYS)
    seconds = time.perf_counter() - started
    return ReindexReport(pattern, source_count, indexed, recorded, seconds, invalidated)


async def _snapshot(
    db: AsyncDatabase[dict[str, Any]], started_at: datetime, settle_s: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `_id` range copied by the build, and the range the catch-up copies after it.

    Plays older than the settle window are committed by now (the sync's assumption),
    so the range holds still while it is copied. With no settle window (tests), it
    ends at the newest play present.
    """
    if settle_s:
        watermark = ObjectId.from_datetime(started_at - timedelta(seconds=settle_s))
        return {"$lt": watermark}, {"$gte": watermark}
    newest = await db.play_events.find_one({}, {"_id": 1}, sort=[("_id", -1)])
    if newest is None:
        return {"$exists": False}, {"$exists": True}
    return {"$lte": newest["_id"]}, {"$gt": newest["_id"]}


async def _plays_to_index(db: AsyncDatabase[dict[str, Any]], snapshot: dict[str, Any]) -> int:
    """The snapshot's plays, less those of erased listeners (never indexed), counted
    after the copy: an erasure during the build may have deleted some."""
    erased = await db[ERASURES].distinct("listener_id")
    query = {"$and": [snapshot, {"listener_id": {"$nin": erased}}]} if erased else snapshot
    return await db.play_events.count_documents(query)


async def _erase_since(
    db: AsyncDatabase[dict[str, Any]], es: AsyncElasticsearch, index: str, since: datetime
) -> BulkResult:
    """Apply again, to `index`, the erasures logged since `since`: the build may have
    copied a play just before its listener's erasure deleted it from MongoDB."""
    erased = await db[ERASURES].distinct("listener_id", {"erased_at": {"$gte": since}})
    return await erase_listeners(es, index, (str(e) for e in erased))


async def _generation_indices(es: AsyncElasticsearch, prefix: str, generation: str) -> list[str]:
    return [i for i, g in (await plays_indices(es, prefix)).items() if g == generation]


async def _swap(
    es: AsyncElasticsearch, config: ElasticsearchSettings, generation: str, built: list[str]
) -> None:
    """Template first (new months join the alias), then one `_aliases` call: readers see
    the old generation or the new one, never a mix and never neither."""
    prefix = config.index_prefix
    alias = plays_alias(prefix)
    await ensure_plays_template(es, config, generation)
    actions: list[dict[str, Any]] = [
        {"remove": {"index": index, "alias": alias}}
        for index in await alias_targets(es, alias)
        if plays_generation_of(prefix, index) != generation
    ]
    actions += [{"add": {"index": index, "alias": alias}} for index in built]
    if actions:
        await es.indices.update_aliases(actions=actions)


async def _catch_up(sync: PlaySync, past: dict[str, Any], erased_since: datetime) -> None:
    """Plays past the snapshot into the new generation; erasures since the start again."""
    limit = sync.options.batch_size
    while (
        plays := await sync.db.play_events.find({"_id": past})
        .sort("_id", 1)
        .limit(limit)
        .to_list(limit)
    ):
        await sync.apply(plays)
        past = {"$gt": plays[-1]["_id"]}
    await _erase_since(sync.db, sync.es, sync.alias, erased_since)
