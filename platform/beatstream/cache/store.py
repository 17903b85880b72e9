"""Cache-aside in Redis for the cached JSON answers (search, analytics, partner views).

Hand-written, not cashews: what we need (our client, "bypass" apart from "miss",
per-namespace generations, one compute across processes that survives a caller's
cancellation) is what cashews lacks; docs/search-cache.md lists what was measured.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, TypeVar

import orjson
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from beatstream.metrics.families import CACHE_REQUESTS, CACHE_STAMPEDE_WAITS
from beatstream.stores.clients import RedisClient

# The name predates this package; kept because operators filter and alert on it
# (docs/search-cache.md, "When Redis fails").
logger = logging.getLogger("beatstream.search.cache")

CacheStatus = Literal["hit", "miss", "bypass"]
K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
_FlightKey = tuple[str, int | None, str]  # namespace, generation (None: Redis failed), digest

# Everything redis-py raises for an unreachable, slow or failing server or cluster.
REDIS_FAILURES = (RedisError, RedisClusterException)
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Delete the lock only while it still holds our token: after our lock expired and
# another process took it, a plain DEL would release *their* lock.
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
# The song-changes log (beatstream.cache.changes): a generation like a namespace's, and
# one entry per bump naming the songs it changed. The `{song-changes}` hash tag puts both
# keys in one slot, so the script below appends to both atomically on a Redis Cluster.
SONG_CHANGES = "{song-changes}"
# Entries kept: a process further behind than this forgets every kept answer instead.
CHANGES_KEPT = 200
# A bump naming more songs (a catch-up chunk, a full recount) is logged as "*" (every
# song), which bounds the log at CHANGES_KEPT x this many ids.
CHANGES_MAX_IDS = 1000
EVERY_SONG = "*"
_ANNOUNCE = """
local g = redis.call('incr', KEYS[1])
redis.call('zadd', KEYS[2], g, g .. ':' .. ARGV[1])
redis.call('zremrangebyscore', KEYS[2], '-inf', g - tonumber(ARGV[2]))
return g
"""


@dataclass(frozen=True)
class CachedResponse:
    """A body exactly as served, its strong ETag, and when it was computed (UTC; kept in
    the entry for operators reading it, not sent: see `beatstream.cache.http.cache_headers`)."""

    body: bytes
    status: CacheStatus
    etag: str
    stored_at: datetime


def params_digest(params: Mapping[str, Any]) -> str:
    """sha256 of canonical JSON: keys sorted, None dropped (= absent), list order kept.

    List order is kept because it can mean something (sort fields); callers that
    treat a list as a set must sort it themselves.
    """
    present = {name: value for name, value in params.items() if value is not None}
    return hashlib.sha256(orjson.dumps(present, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _pack(cached: CachedResponse) -> bytes:
    """One value, so value and TTL are one atomic `SET EX`; orjson writes no raw newline."""
    header = orjson.dumps({"etag": cached.etag, "at": cached.stored_at.isoformat()})
    return header + b"\n" + cached.body


def _unpack(raw: object) -> CachedResponse | None:
    """None for no value, or one we cannot read: it is then recomputed and overwritten."""
    if not isinstance(raw, bytes):
        return None
    header, _, body = raw.partition(b"\n")
    try:
        meta = orjson.loads(header)
        return CachedResponse(body, "hit", meta["etag"], datetime.fromisoformat(meta["at"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _join(
    flights: dict[K, asyncio.Task[T]], key: K, start: Callable[[], Coroutine[Any, Any, T]]
) -> asyncio.Future[T]:
    """Single flight: join the running task for `key`, or start it.

    Shielded, so a caller that is cancelled (its client went away) leaves the task
    running for the others, and a computed body is still stored.
    """
    flight = flights.get(key)
    if flight is None:
        flight = flights[key] = asyncio.create_task(start())
        flight.add_done_callback(partial(_land, flights, key))
    return asyncio.shield(flight)


def _land(flights: dict[K, asyncio.Task[T]], key: K, done: asyncio.Task[T]) -> None:
    if flights.get(key) is done:
        del flights[key]
    if not done.cancelled():
        done.exception()  # retrieved, so no "exception was never retrieved" when all left


class ResponseCache:
    """Cache-aside with one compute per cold key, across tasks and across processes.

    Needs a client with `decode_responses=False` (what `create_redis_client` makes).
    """

    def __init__(
        self,
        redis: RedisClient,
        key_prefix: str,
        *,
        lock_ttl_s: float = 10.0,
        wait_step_s: float = 0.02,
        warn_interval_s: float = 60.0,
    ) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._lock_ttl_ms = int(lock_ttl_s * 1000)
        self._wait_step_s = wait_step_s
        self._warn_interval_s = warn_interval_s
        self._last_warning: float | None = None
        self._generation_reads: dict[str, asyncio.Task[int]] = {}
        self._flights: dict[_FlightKey, asyncio.Task[CachedResponse]] = {}
        self._release = redis.register_script(_RELEASE)
        self._announce = redis.register_script(_ANNOUNCE)

    async def get_or_compute(
        self,
        namespace: str,
        params: Mapping[str, Any],
        ttl_s: int,
        compute: Callable[[], Awaitable[bytes]],
    ) -> CachedResponse:
        """The cached body, or `compute()`'s, stored for `ttl_s`; never raises a Redis error.

        Concurrent callers for one key share one flight and all get its status. Even
        the generation read is shared: 200 callers each taking a pooled connection
        would exhaust the pool, and the resulting errors would bypass the cache
        exactly when it matters.
        """
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"namespace must match {_NAMESPACE.pattern}: {namespace!r}")
        if ttl_s < 1:
            raise ValueError("ttl_s must be at least 1")
        digest = params_digest(params)
        generation: int | None = None
        try:
            generation = await _join(
                self._generation_reads, namespace, lambda: self._read_generation(namespace)
            )
        except REDIS_FAILURES as exc:
            self._warn(exc)
        flight = (namespace, generation, digest)
        if flight in self._flights:
            CACHE_STAMPEDE_WAITS.labels(namespace, "process").inc()
        cached = await _join(self._flights, flight, lambda: self._fill(flight, ttl_s, compute))
        CACHE_REQUESTS.labels(namespace, cached.status).inc()
        return cached

    async def invalidate(self, namespace: str) -> int:
        """Bump the namespace's generation: old entries stop being served at once.

        They are never deleted; they expire by their TTL. Returns the new generation,
        or -1 when Redis failed (logged every time, not rate-limited: until a retry
        succeeds, stale results can be served).
        """
        try:
            return int(await self._redis.incr(self._gen_key(namespace)))
        except REDIS_FAILURES as exc:
            logger.warning("search cache: invalidating %r failed: %r", namespace, exc)
            return -1

    async def generations(self, namespaces: Sequence[str]) -> tuple[int, ...]:
        """The namespaces' generations now, in one round trip; raises a Redis failure
        (the caller decides what serving without them means)."""
        keys = [self._gen_key(ns) for ns in namespaces]
        if isinstance(self._redis, RedisCluster):  # the keys live in different slots
            values = await self._redis.mget_nonatomic(keys)
        else:
            values = await self._redis.mget(keys)
        return tuple(int(value or 0) for value in values)

    async def announce(self, song_ids: Sequence[str]) -> int:
        """Bump the song-changes generation, logging which songs changed: processes
        that keep hot reads drop only those songs' answers. Returns the new generation,
        or -1 when Redis failed (logged, like `invalidate`)."""
        ids = ",".join(song_ids) if len(song_ids) <= CHANGES_MAX_IDS else EVERY_SONG
        keys = [self._gen_key(SONG_CHANGES), f"{self._prefix}cache-log:{SONG_CHANGES}"]
        try:
            return int(await self._announce(keys=keys, args=[ids, CHANGES_KEPT]))
        except REDIS_FAILURES as exc:
            logger.warning("search cache: announcing %d songs failed: %r", len(song_ids), exc)
            return -1

    async def announced(self, after: int, through: int) -> list[bytes]:
        """The song-changes log's entries of generations `after` (excluded) to
        `through`, as stored (`b"<generation>:<id>,<id>"`); raises a Redis failure."""
        key = f"{self._prefix}cache-log:{SONG_CHANGES}"
        found = await self._redis.zrangebyscore(key, f"({after}", through)
        return [entry for entry in found if isinstance(entry, bytes)]

    def _gen_key(self, namespace: str) -> str:
        return f"{self._prefix}cache-gen:{namespace}"

    async def _read_generation(self, namespace: str) -> int:
        return int(await self._redis.get(self._gen_key(namespace)) or 0)

    async def _fill(
        self, flight: _FlightKey, ttl_s: int, compute: Callable[[], Awaitable[bytes]]
    ) -> CachedResponse:
        namespace, generation, digest = flight
        if generation is None:
            return await self._computed(compute, "bypass")
        # `{digest}` is a Redis Cluster hash tag: an entry and its lock share one slot,
        # so the waiters' GET + EXISTS poll is one round trip to one node.
        key = f"{self._prefix}cache:{namespace}:g{generation}:{{{digest}}}"
        lock_key = f"{self._prefix}cache-lock:{namespace}:g{generation}:{{{digest}}}"
        token = secrets.token_hex(16)
        locked = False
        try:
            try:
                found = _unpack(await self._redis.get(key))
                if found is None:
                    locked = bool(
                        await self._redis.set(lock_key, token, nx=True, px=self._lock_ttl_ms)
                    )
                    # Read again after winning: the last holder may have stored and
                    # unlocked between our GET and our SET.
                    if not locked:
                        CACHE_STAMPEDE_WAITS.labels(namespace, "redis").inc()
                    found = (
                        _unpack(await self._redis.get(key))
                        if locked
                        else await self._wait_for_holder(key, lock_key)
                    )
            except REDIS_FAILURES as exc:
                self._warn(exc)
                return await self._computed(compute, "bypass")
            if found is not None:
                return found
            # We hold the lock, or the holder vanished without storing (it failed, or
            # its lock expired): compute ourselves rather than wait any longer.
            computed = await self._computed(compute, "miss")
            try:
                await self._redis.set(key, _pack(computed), ex=ttl_s)
            except REDIS_FAILURES as exc:
                self._warn(exc)
                return replace(computed, status="bypass")
            return computed
        finally:
            if locked:
                await self._unlock(lock_key, token)

    async def _wait_for_holder(self, key: str, lock_key: str) -> CachedResponse | None:
        """Poll until the lock holder stores the value, or its lock is gone."""
        deadline = time.monotonic() + self._lock_ttl_ms / 1000
        while time.monotonic() < deadline:
            await asyncio.sleep(self._wait_step_s)
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(key)
                pipe.exists(lock_key)
                raw, lock_held = await pipe.execute()
            found = _unpack(raw)
            if found is not None or not lock_held:
                return found
        return None

    async def _unlock(self, lock_key: str, token: str) -> None:
        """Best effort: a lock we fail to release expires after `lock_ttl_s` anyway."""
        try:
            await self._release(keys=[lock_key], args=[token])
        except REDIS_FAILURES as exc:
            self._warn(exc)

    @staticmethod
    async def _computed(
        compute: Callable[[], Awaitable[bytes]], status: CacheStatus
    ) -> CachedResponse:
        body = await compute()
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        return CachedResponse(body, status, etag, datetime.now(UTC))

    def _warn(self, exc: BaseException) -> None:
        """One warning per `warn_interval_s`: with Redis down, every request fails the same way."""
        now = time.monotonic()
        if self._last_warning is not None and now - self._last_warning < self._warn_interval_s:
            return
        self._last_warning = now
        logger.warning("search cache bypassed, Redis unavailable: %r", exc)
