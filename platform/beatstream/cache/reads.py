"""Hot reads (a song, a public playlist) served from process memory, exactly current.

A song or playlist read used to cost a MongoDB round trip per request. Here a process
keeps each answer, pre-serialised, tagged with the generations of the namespaces it
was read from (`CacheNamespace.CATALOG`, `CacheNamespace.PLAYLISTS`, the same Redis
counters `ResponseCache.invalidate` bumps). Every write path bumps its namespace
*after* its MongoDB write and before it answers, so:

- a read takes a snapshot of the generations from Redis that **started after the
  read arrived** (`GenerationClock`), then serves the kept answer only when its tag
  equals that snapshot. A write acknowledged before the read arrived has bumped by
  then, so its change is seen by the very next read, in this process or any other
  sharing the Redis prefix: no bounded staleness, unlike the 1 s microcache.
- an answer is tagged with the snapshot taken *before* its MongoDB read: a write
  racing the read bumps after it, so that answer cannot be served past the bump.

The snapshot is one Redis round trip shared by every read waiting at the same moment
(a read joins the next snapshot not yet sent, never one already in flight): under
load that is one `MGET` for many requests, much cheaper than a `find_one` each.
When Redis fails, reads go to MongoDB (nothing kept, nothing served from memory).

The play roll-up and the counter repair change songs several times a second: they do
not bump `CATALOG` but *announce* the songs they wrote (`beatstream.cache.changes`),
and an answer is dropped only if a song it shows was announced after it was read.

`max_age_s` bounds what no bump can announce: a write made outside the code paths
that bump (a hand edit in a MongoDB shell), or generations lost with a Redis flush
that then count up to an old tag again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from beatstream.cache.changes import SongChanges
from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import REDIS_FAILURES, SONG_CHANGES, ResponseCache

logger = logging.getLogger("beatstream.cache.reads")

V = TypeVar("V")
Generations = tuple[int, ...]
# Every namespace a hot read depends on, read in one MGET (order fixed: the tags compare).
HOT_NAMESPACES = (CacheNamespace.CATALOG, CacheNamespace.PLAYLISTS)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """`HOT_NAMESPACES`' generations, the song-changes generation and this process's
    epoch of the song-changes log, all as of one moment (`GenerationClock`)."""

    generations: Generations
    changes: int
    epoch: int


class GenerationClock:
    """Snapshots of `HOT_NAMESPACES`' generations, each started after its callers asked.

    Callers that ask while a snapshot is on the wire wait for the next one (one for all
    of them): joining the one in flight could miss a bump made just before they asked.
    """

    def __init__(self, cache: ResponseCache) -> None:
        self._cache = cache
        self.changes = SongChanges()
        self._next: asyncio.Future[Snapshot | None] | None = None
        self._pump: asyncio.Task[None] | None = None

    async def snapshot(self) -> Snapshot | None:
        """The generations as of some moment after this call; None when Redis failed."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if self._pump is None:
                self._pump = asyncio.create_task(self._run())
        return await asyncio.shield(self._next)

    async def _read(self) -> Snapshot:
        """One MGET; one more round trip only when songs were announced meanwhile (the
        log is applied before anyone is answered, so `changes` knows them all)."""
        *generations, current = await self._cache.generations((*HOT_NAMESPACES, SONG_CHANGES))
        after = self.changes.wants(current)
        entries = None if after is None else await self._cache.announced(after, current)
        self.changes.advance(current, entries)
        return Snapshot(tuple(generations), current, self.changes.epoch)

    async def _run(self) -> None:
        waiting: asyncio.Future[Snapshot | None] | None = None
        try:
            while (waiting := self._next) is not None:
                self._next = None  # whoever asks from now on waits for the next read
                try:
                    found: Snapshot | None = await self._read()
                except REDIS_FAILURES as exc:
                    logger.warning("hot reads from MongoDB, Redis unavailable: %r", exc)
                    found = None
                waiting.set_result(found)
        finally:
            # Cancelled (shutdown): nobody may wait forever; None sends them to MongoDB.
            for left in (waiting, self._next):
                if left is not None and not left.done():
                    left.set_result(None)
            self._next = self._pump = None


def _tag(snapshot: Snapshot, depends: Sequence[CacheNamespace]) -> Generations:
    """The snapshot's generations of the namespaces an answer depends on (a song does
    not go stale when a playlist changes)."""
    return tuple(snapshot.generations[HOT_NAMESPACES.index(ns)] for ns in depends)


@dataclass(slots=True)
class _Kept(Generic[V]):
    tag: Generations
    read_at: int  # the song-changes generation it was read at, and in which epoch
    epoch: int
    songs: tuple[str, ...]  # the songs it shows (their ids as the roll-up announces them)
    stored_at: float
    value: V


class HotReads(Generic[V]):
    """The per-process store of hot answers, bounded (least recently used out first)."""

    def __init__(self, cache: ResponseCache, max_entries: int, max_age_s: float) -> None:
        self.clock = GenerationClock(cache)
        self._cache = cache
        self._max_entries = max_entries
        self._max_age_s = max_age_s
        self._kept: OrderedDict[Hashable, _Kept[V]] = OrderedDict()

    def get(
        self, key: Hashable, snapshot: Snapshot | None, depends: Sequence[CacheNamespace]
    ) -> V | None:
        """The kept answer for `key` if it was read at the generations `snapshot` shows
        for the namespaces it `depends` on, and none of its songs was announced since;
        else None."""
        kept = self._kept.get(key)
        if kept is None or snapshot is None or kept.tag != _tag(snapshot, depends):
            return None
        if not self.clock.changes.fresh(kept.read_at, kept.epoch, kept.songs):
            del self._kept[key]
            return None
        if time.monotonic() - kept.stored_at > self._max_age_s:
            del self._kept[key]
            return None
        self._kept.move_to_end(key)
        return kept.value

    def put(
        self,
        key: Hashable,
        snapshot: Snapshot | None,
        depends: Sequence[CacheNamespace],
        value: V,
        *,
        songs: Sequence[str],
    ) -> None:
        """Keep `value`, read from MongoDB after `snapshot` was taken (None: Redis
        failed, so nothing is kept), showing `songs` (ids as strings)."""
        if snapshot is None or not self._max_entries:
            return
        tag = _tag(snapshot, depends)
        kept = _Kept(tag, snapshot.changes, snapshot.epoch, tuple(songs), time.monotonic(), value)
        self._kept[key] = kept
        self._kept.move_to_end(key)
        while len(self._kept) > self._max_entries:
            self._kept.popitem(last=False)

    async def bump(self, *namespaces: CacheNamespace) -> None:
        """After a write: every process stops serving what it kept from `namespaces`.

        A failed bump (Redis down) is logged by `invalidate`; this process forgets all
        it kept, and other processes serve kept answers only while their snapshots
        succeed and for `max_age_s` at most.
        """
        for namespace in namespaces:
            if await self._cache.invalidate(namespace) < 0:
                self._kept.clear()
