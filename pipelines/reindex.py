"""Full reindex: MongoDB -> a NEW Elasticsearch index -> atomic alias swap -> old index dropped.

Readers keep the old index until the new one is complete and verified; the swap is
one `_aliases` call, after which the `songs` cache namespace is bumped (answers cached
from the old index are never served again). During the load the new index has no
refreshes and no replicas (both restored after), which is most of the speed of a bulk
load.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.search.indices import (
    SONGS,
    alias_targets,
    create_songs_index,
    finish_bulk_load,
    song_document,
    swap_alias,
)
from beatstream.settings import ElasticsearchSettings
from pipelines import dead_letters
from pipelines.bulk import BulkResult, index_action, send_chunks
from pipelines.invalidation import invalidate

Progress = Callable[[int], None]


class ReindexError(RuntimeError):
    """The new index did not verify; the alias was left on the old one."""


@dataclass(frozen=True, slots=True)
class ReindexReport:
    index: str
    source_count: int
    indexed: int
    dead_letters: int
    seconds: float
    # True: the cache namespace was bumped; False: Redis refused every attempt (stale
    # answers can be served until the next bump); None: no cache was given.
    cache_invalidated: bool | None = None

    @property
    def docs_per_s(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0


async def bulk_load(
    es: AsyncElasticsearch,
    db: AsyncDatabase[dict[str, Any]],
    chunks: AsyncIterator[list[dict[str, Any]]],
    *,
    source: str,
    transform_failures: list[tuple[str, str]],
    progress: Progress | None,
    concurrency: int,
) -> tuple[list[tuple[str, str]], int]:
    """Send a rebuild's bulk chunks, report progress per chunk, and dead-letter every
    document that could not be transformed or indexed: each rebuild (songs, plays) loads
    the same way, so it is written once. `transform_failures` fills while `chunks` is
    read, so it is read only after the last chunk went out. Returns the failures and how
    many dead letters were recorded."""

    def advance(result: BulkResult) -> None:
        if progress is not None:
            progress(result.succeeded + len(result.failed))

    result = await send_chunks(es, chunks, concurrency=concurrency, on_chunk=advance)
    failures = transform_failures + result.failed
    return failures, await dead_letters.record(db, "reindex", source, failures)


async def reindex_songs(
    db: AsyncDatabase[dict[str, Any]],
    es: AsyncElasticsearch,
    config: ElasticsearchSettings,
    *,
    cache: ResponseCache | None,
    batch_size: int = 2000,
    concurrency: int = 2,
    progress: Progress | None = None,
) -> ReindexReport:
    """`cache` has no default on purpose: a caller must say which cache serves this
    index (or None for a store no API reads), or its answers would outlive the swap."""
    started = time.perf_counter()
    source_count = await db.songs.count_documents({})
    index = await create_songs_index(es, config, bulk_load=True)
    transform_failures: list[tuple[str, str]] = []

    async def chunks() -> AsyncIterator[list[dict[str, Any]]]:
        operations: list[dict[str, Any]] = []
        # Natural order: a full copy needs no sort, and sorting 100k documents is slow
        # on servers that sort in memory.
        async for row in db.songs.find({}).batch_size(batch_size):
            try:
                doc = song_document(row)
            except (KeyError, TypeError, ValueError) as exc:
                transform_failures.append((str(row.get("_id")), f"transform: {exc!r}"))
                continue
            operations += [index_action(index, doc["id"], row), doc]
            if len(operations) >= 2 * batch_size:
                yield operations
                operations = []
        if operations:
            yield operations

    try:
        failures, recorded = await bulk_load(
            es,
            db,
            chunks(),
            source="songs",
            transform_failures=transform_failures,
            progress=progress,
            concurrency=concurrency,
        )
        await finish_bulk_load(es, config, index)
        indexed = int((await es.count(index=index))["count"])
        if indexed != source_count - len(failures):
            raise ReindexError(
                f"{index} holds {indexed} songs, expected {source_count - len(failures)}"
            )
    except BaseException:
        await es.indices.delete(index=index, ignore_unavailable=True)
        raise
    alias = SONGS.alias(config.index_prefix)
    old = await alias_targets(es, alias)
    await swap_alias(es, alias, old=old, new=index)
    if old:
        await es.indices.delete(index=",".join(old), ignore_unavailable=True)
    invalidated = await invalidate(cache, CacheNamespace.SONGS)
    seconds = time.perf_counter() - started
    return ReindexReport(index, source_count, indexed, recorded, seconds, invalidated)
