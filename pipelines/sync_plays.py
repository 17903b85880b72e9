"""Incremental sync of play events, MongoDB -> the monthly play indices.

Play events are append-only, so the sync follows their `_id`: past a saved
watermark, and no younger than `settle_s` (ids are minted by the writers, which may
commit slightly out of order; a play younger than the settle window waits a round),
with one cursor per pass, checkpointed chunk by chunk (`pipelines.play_stream`).
Each play is indexed under its own id into the month of its `played_at`, so a replay
rewrites the same document: at-least-once delivery without duplicates. The song's
artist and genre are copied in (one `$in` query per batch) for the dashboards.

Plays go to the **live generation** (see `search/indices.py`), looked up once per
batch: a full rebuild (`pipelines/reindex_plays.py`) moves it, and the next batch
follows it. A listener's erasure is applied after the batch of plays, from the
`listener_erasures` log, behind its own watermark (`erased_at`, `erased_id`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.cache.namespaces import CacheNamespace
from beatstream.search.indices import play_document, plays_alias, plays_generation, plays_index
from pipelines import dead_letters
from pipelines.bulk import BulkResult, item_failures
from pipelines.play_stream import ERASURES as ERASURES  # re-exported: reindex_plays
from pipelines.play_stream import PlayFollower
from pipelines.sync import Row

SOURCE = "plays"
PIT_KEEP_ALIVE = "1m"
PAGE = 1000


async def play_operations(
    db: AsyncDatabase[Row], prefix: str, generation: str, plays: list[Row]
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Bulk lines indexing `plays` into their months of `generation`, and the plays
    that could not be transformed (with the reason).

    Plays of an erased listener are skipped: one read just before the erasure
    deleted it from MongoDB must not be indexed after the erasure was applied.
    """
    listener_ids = list({play.get("listener_id") for play in plays})
    erased = {
        e["listener_id"]
        async for e in db[ERASURES].find({"listener_id": {"$in": listener_ids}}, {"listener_id": 1})
    }
    plays = [play for play in plays if play.get("listener_id") not in erased]
    song_ids = list({play.get("song_id") for play in plays})
    songs = {
        s["_id"]: s
        async for s in db.songs.find({"_id": {"$in": song_ids}}, {"artist": 1, "genre": 1})
    }
    operations: list[dict[str, Any]] = []
    failures: list[tuple[str, str]] = []
    for play in plays:
        try:
            played_at: datetime = play["played_at"]
            doc = play_document(play, songs.get(play["song_id"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            failures.append((str(play.get("_id")), f"transform: {exc!r}"))
            continue
        index = plays_index(prefix, played_at.year, played_at.month, generation)
        operations += [{"index": {"_index": index, "_id": str(play["_id"])}}, doc]
    return operations, failures


async def erase_listeners(
    es: AsyncElasticsearch, alias: str, listener_ids: Iterable[str]
) -> BulkResult:
    """Delete every play of these listeners from the indices behind `alias`.

    The local distribution has no `_delete_by_query`, so the plays are found with a
    point in time and `search_after` (one consistent view however many pages) and
    deleted in bulk. The alias is refreshed first: a play indexed moments ago is not
    searchable before a refresh, and would survive its listener's erasure.
    """
    wanted = sorted(set(listener_ids))
    result = BulkResult()
    if not wanted:
        return result
    await es.indices.refresh(index=alias, ignore_unavailable=True, allow_no_indices=True)
    async for hits in pit_pages(es, alias, {"terms": {"listener_id": wanted}}):
        operations = [{"delete": {"_index": h["_index"], "_id": h["_id"]}} for h in hits]
        result.add(item_failures((await es.bulk(operations=operations)).body))
    return result


async def pit_pages(
    es: AsyncElasticsearch, index: str, query: dict[str, Any] | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    """The hits of `query` (all documents without one) behind `index`, ids only, page by
    page from one point in time: a consistent view however many pages, where `from`
    paging would skip or repeat documents that change meanwhile. Nothing when no index
    exists yet. The point in time is closed however the caller stops."""
    try:
        pit = await es.open_point_in_time(index=index, keep_alive=PIT_KEEP_ALIVE)
    except NotFoundError:
        return
    pit_id = pit["id"]
    after: list[Any] | None = None
    try:
        while True:
            page = await es.search(
                pit={"id": pit_id, "keep_alive": PIT_KEEP_ALIVE},
                query=query,
                sort=["_shard_doc"],
                size=PAGE,
                source=False,
                search_after=after,
            )
            pit_id = page.get("pit_id", pit_id)
            hits = page["hits"]["hits"]
            if hits:
                yield hits
            if len(hits) < PAGE:
                return
            after = hits[-1]["sort"]
    finally:
        await es.close_point_in_time(id=pit_id)


class PlaySync(PlayFollower):
    """Indexes plays, then applies erasures; one cursor per pass (`pipelines.play_stream`)."""

    source = SOURCE

    async def handle_plays(self, plays: list[Row]) -> None:
        await self.apply(plays)

    async def handle_erasures(self, erasures: list[Row]) -> None:
        await self.apply_erasures(erasures)

    @property
    def alias(self) -> str:
        return plays_alias(self.config.index_prefix)

    async def apply(self, plays: list[Row]) -> BulkResult:
        prefix = self.config.index_prefix
        generation = await plays_generation(self.es, prefix)
        operations, failures = await play_operations(self.db, prefix, generation, plays)
        result = BulkResult()
        if operations:
            result = item_failures((await self.es.bulk(operations=operations)).body)
        result.failed = failures + result.failed
        await dead_letters.record(self.db, "sync", SOURCE, result.failed)
        if self.cache is not None:
            await self.cache.invalidate(CacheNamespace.PLAYS)
        return result

    async def apply_erasures(self, erasures: list[Row]) -> BulkResult:
        result = await erase_listeners(
            self.es, self.alias, (str(e["listener_id"]) for e in erasures)
        )
        await dead_letters.record(self.db, "erasure", SOURCE, result.failed)
        if self.cache is not None and result.succeeded:
            await self.cache.invalidate(CacheNamespace.PLAYS)
        return result
