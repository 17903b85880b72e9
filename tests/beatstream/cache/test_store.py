"""The response cache against a real Redis: keys, TTLs, stampedes, failures."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator

import pytest
from redis.crc import key_slot

from beatstream.cache.store import CachedResponse, ResponseCache, params_digest
from beatstream.settings import RedisSettings, Settings
from beatstream.stores.clients import RedisClient, create_redis_client
from tests.fixtures.servers import DisposableRedis

BODY = b'{"hits":[{"id":"s1"}],"total":1}'


class Compute:
    """A compute() that counts its calls, takes a while, and can be told to fail."""

    def __init__(self, body: bytes = BODY, delay_s: float = 0.05, error: bool = False) -> None:
        self.body = body
        self.delay_s = delay_s
        self.error = error
        self.calls = 0

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.error:
            raise RuntimeError("elasticsearch said no")
        return self.body


@pytest.fixture
def cache(redis_client: RedisClient, redis_prefix: str) -> ResponseCache:
    return ResponseCache(redis_client, redis_prefix)


def value_key(prefix: str, namespace: str, params: dict[str, object], generation: int = 0) -> str:
    return f"{prefix}cache:{namespace}:g{generation}:{{{params_digest(params)}}}"


async def test_miss_then_hit_serves_the_same_body_and_etag(cache: ResponseCache) -> None:
    compute = Compute()
    first = await cache.get_or_compute("songs", {"q": "blue"}, 60, compute)
    second = await cache.get_or_compute("songs", {"q": "blue"}, 60, compute)

    assert (first.status, second.status) == ("miss", "hit")
    assert first.body == second.body == BODY
    assert first.etag == second.etag
    assert first.etag == f'"{hashlib.sha256(BODY).hexdigest()[:32]}"'
    assert first.stored_at == second.stored_at
    assert first.stored_at.tzinfo is not None
    assert compute.calls == 1


async def test_parameter_order_does_not_change_the_key(cache: ResponseCache) -> None:
    compute = Compute()
    await cache.get_or_compute(
        "songs", {"q": "blue", "genres": ["jazz", "soul"], "size": 10}, 60, compute
    )
    again = await cache.get_or_compute(
        "songs", {"size": 10, "genres": ["jazz", "soul"], "q": "blue"}, 60, compute
    )
    assert again.status == "hit"
    assert compute.calls == 1


async def test_none_is_the_same_as_absent(cache: ResponseCache) -> None:
    compute = Compute()
    await cache.get_or_compute("songs", {"q": "blue", "year": None}, 60, compute)
    again = await cache.get_or_compute("songs", {"q": "blue"}, 60, compute)
    assert again.status == "hit"
    assert compute.calls == 1


@pytest.mark.parametrize(
    "other",
    [
        {"q": "red", "genres": ["jazz", "soul"]},
        {"q": "blue", "genres": ["soul", "jazz"]},  # list order can mean something
        {"q": "blue", "genres": ["jazz", "soul"], "size": 5},
    ],
)
async def test_different_params_get_a_different_key(
    cache: ResponseCache, other: dict[str, object]
) -> None:
    compute = Compute()
    await cache.get_or_compute("songs", {"q": "blue", "genres": ["jazz", "soul"]}, 60, compute)
    assert (await cache.get_or_compute("songs", other, 60, compute)).status == "miss"
    assert compute.calls == 2


async def test_the_entry_has_the_documented_key_and_its_ttl(
    cache: ResponseCache, redis_client: RedisClient, redis_prefix: str
) -> None:
    params: dict[str, object] = {"q": "blue"}
    await cache.get_or_compute("songs", params, 30, Compute())
    pttl = await redis_client.pttl(value_key(redis_prefix, "songs", params))
    assert 25_000 < pttl <= 30_000
    assert await redis_client.exists(f"{redis_prefix}cache-gen:songs") == 0  # missing = 0
    assert not [k async for k in redis_client.scan_iter(match=f"{redis_prefix}cache-lock:*")]


async def test_a_stampede_of_200_computes_once(cache: ResponseCache) -> None:
    compute = Compute()
    results = await asyncio.gather(
        *(cache.get_or_compute("songs", {"q": "cold"}, 60, compute) for _ in range(200))
    )
    assert compute.calls == 1
    assert {r.body for r in results} == {BODY}
    assert {r.etag for r in results} == {results[0].etag}


async def test_two_processes_share_one_compute(settings: Settings) -> None:
    """Two clients with their own connection pools stand for two API processes."""
    clients = [create_redis_client(settings.redis) for _ in range(2)]
    prefix = settings.redis.key_prefix
    try:
        caches = [ResponseCache(client, prefix) for client in clients]
        compute = Compute()
        results = await asyncio.gather(
            *(
                caches[i % 2].get_or_compute("songs", {"q": "shared"}, 60, compute)
                for i in range(100)
            )
        )
        assert compute.calls == 1
        assert sorted(r.status for r in results) == ["hit"] * 50 + ["miss"] * 50
        assert {r.etag for r in results} == {results[0].etag}
    finally:
        keys = [k async for k in clients[0].scan_iter(match=f"{prefix}*")]
        if keys:
            await clients[0].delete(*keys)
        for client in clients:
            await client.aclose()


async def test_invalidate_bumps_one_namespace_only(
    cache: ResponseCache, redis_client: RedisClient, redis_prefix: str
) -> None:
    songs, artists = Compute(b'{"songs":1}'), Compute(b'{"artists":1}')
    await cache.get_or_compute("songs", {"q": "x"}, 60, songs)
    await cache.get_or_compute("artists", {"q": "x"}, 60, artists)

    assert await cache.invalidate("songs") == 1
    after = await cache.get_or_compute("songs", {"q": "x"}, 60, songs)
    assert after.status == "miss"
    assert songs.calls == 2
    assert (await cache.get_or_compute("artists", {"q": "x"}, 60, artists)).status == "hit"
    assert artists.calls == 1
    # The old entry is left to expire, never deleted.
    assert await redis_client.exists(value_key(redis_prefix, "songs", {"q": "x"}, 0)) == 1
    assert await redis_client.exists(value_key(redis_prefix, "songs", {"q": "x"}, 1)) == 1
    assert await cache.invalidate("songs") == 2


async def test_a_failed_compute_reaches_every_waiter_and_is_not_stored(
    cache: ResponseCache, redis_client: RedisClient, redis_prefix: str
) -> None:
    failing = Compute(error=True)
    results = await asyncio.gather(
        *(cache.get_or_compute("songs", {"q": "bad"}, 60, failing) for _ in range(20)),
        return_exceptions=True,
    )
    assert failing.calls == 1
    assert all(isinstance(r, RuntimeError) for r in results)
    assert not [k async for k in redis_client.scan_iter(match=f"{redis_prefix}*")]

    working = Compute()
    again = await cache.get_or_compute("songs", {"q": "bad"}, 60, working)
    assert (again.status, again.body, working.calls) == ("miss", BODY, 1)


async def test_one_caller_cancelled_does_not_cancel_the_others(
    cache: ResponseCache, redis_client: RedisClient, redis_prefix: str
) -> None:
    compute = Compute(delay_s=0.1)
    tasks = [
        asyncio.create_task(cache.get_or_compute("songs", {"q": "c"}, 60, compute))
        for _ in range(3)
    ]
    await asyncio.sleep(0.02)
    tasks[0].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(results[0], asyncio.CancelledError)
    assert [r.body for r in results[1:] if isinstance(r, CachedResponse)] == [BODY, BODY]
    assert compute.calls == 1
    assert await redis_client.exists(value_key(redis_prefix, "songs", {"q": "c"})) == 1


async def test_a_vanished_lock_holder_leads_the_waiter_to_compute(
    cache: ResponseCache, redis_client: RedisClient, redis_prefix: str
) -> None:
    """Another process took the lock and died: we wait out its lock, then compute."""
    digest = params_digest({"q": "orphan"})
    lock_key = f"{redis_prefix}cache-lock:songs:g0:{{{digest}}}"
    await redis_client.set(lock_key, "dead", px=200)
    locks_seen: list[str | bytes | None] = []
    compute = Compute(delay_s=0)

    async def compute_after_checking_the_lock() -> bytes:
        locks_seen.append(await redis_client.get(lock_key))
        return await compute()

    result = await cache.get_or_compute(
        "songs", {"q": "orphan"}, 60, compute_after_checking_the_lock
    )
    assert (result.status, compute.calls) == ("miss", 1)
    assert locks_seen
    assert locks_seen[0] not in {"dead", b"dead"}, "computed while the dead holder's lock stood"


async def test_an_entry_and_its_lock_share_one_cluster_slot(
    cache: ResponseCache, redis_client: RedisClient, redis_prefix: str
) -> None:
    """Waiters poll the entry and the lock in one pipeline: on a Redis Cluster that is
    one node's round trip only when both keys hash to one slot (a hash tag)."""
    locks: list[bytes] = []

    async def compute_seeing_the_lock() -> bytes:
        locks.extend([k async for k in redis_client.scan_iter(match=f"{redis_prefix}cache-lock:*")])
        return BODY

    await cache.get_or_compute("songs", {"q": "slot"}, 60, compute_seeing_the_lock)
    [lock] = locks
    assert key_slot(lock) == key_slot(value_key(redis_prefix, "songs", {"q": "slot"}).encode())


async def test_an_expired_lock_is_not_released_from_its_next_owner(
    redis_client: RedisClient, redis_prefix: str
) -> None:
    cache = ResponseCache(redis_client, redis_prefix, lock_ttl_s=0.1)
    lock_key = f"{redis_prefix}cache-lock:songs:g0:{{{params_digest({'q': 'slow'})}}}"

    async def slow_compute() -> bytes:
        await asyncio.sleep(0.2)  # our lock expires meanwhile; someone else takes it
        assert await redis_client.set(lock_key, "theirs", nx=True, px=5000)
        return BODY

    await cache.get_or_compute("songs", {"q": "slow"}, 60, slow_compute)
    assert await redis_client.get(lock_key) == b"theirs"


@pytest.fixture
async def dead_redis(disposable_redis: DisposableRedis) -> AsyncIterator[RedisClient]:
    client = create_redis_client(RedisSettings(url=disposable_redis.url, socket_timeout_s=0.5))
    yield client
    await client.aclose()


async def test_redis_down_bypasses_without_raising_and_warns_once(
    dead_redis: RedisClient, disposable_redis: DisposableRedis, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ResponseCache(dead_redis, "bs:test:down:")
    compute = Compute()
    assert (await cache.get_or_compute("songs", {"q": "x"}, 60, compute)).status == "miss"
    disposable_redis.kill()

    with caplog.at_level(logging.WARNING, logger="beatstream.search.cache"):
        first = await cache.get_or_compute("songs", {"q": "x"}, 60, compute)
        second = await cache.get_or_compute("songs", {"q": "y"}, 60, compute)

    assert (first.status, second.status) == ("bypass", "bypass")
    assert first.body == second.body == BODY
    assert compute.calls == 3
    warnings = [r for r in caplog.records if r.name == "beatstream.search.cache"]
    assert len(warnings) == 1
    assert "Redis unavailable" in warnings[0].getMessage()


async def test_invalidate_with_redis_down_returns_minus_one(
    dead_redis: RedisClient, disposable_redis: DisposableRedis, caplog: pytest.LogCaptureFixture
) -> None:
    disposable_redis.kill()
    cache = ResponseCache(dead_redis, "bs:test:down:")
    with caplog.at_level(logging.WARNING, logger="beatstream.search.cache"):
        assert await cache.invalidate("songs") == -1
    assert any("invalidating 'songs' failed" in r.getMessage() for r in caplog.records)


def test_params_digest_is_canonical() -> None:
    assert params_digest({"a": 1, "b": None, "c": [2, 1]}) == params_digest({"c": [2, 1], "a": 1})
    assert params_digest({"c": [1, 2]}) != params_digest({"c": [2, 1]})
