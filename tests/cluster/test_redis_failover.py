"""A Redis Cluster primary killed: its replica takes over (node timeout 1 s), the API
keeps answering (the cache bypasses Redis at worst), and rate limits work again on the
promoted replica."""

from __future__ import annotations

import httpx
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from beatstream.ratelimit import RateLimiter
from beatstream.settings import RateLimitSettings, Settings
from devstack.cluster import ClusterStack
from tests.cluster.conftest import kill, restore
from tests.fixtures.search import IndexSongs, song_row

TAG = "{failover}"  # every bucket below hashes to this tag's slot, on one primary


async def _limited_three_times(limiter: RateLimiter, bucket: str) -> list[bool | None]:
    """Four hits on a limit of 3: [True, True, True, False] when limiting works."""
    return [
        None if decision is None else decision.allowed
        for decision in [await limiter.hit(bucket, 3) for _ in range(4)]
    ]


async def test_a_killed_primary_fails_over_and_limits_keep_working(
    clusters: ClusterStack,
    search_settings: Settings,
    search_client: httpx.AsyncClient,
    index_songs: IndexSongs,
    redis_client: RedisCluster,
    redis_prefix: str,
    rng: object,
) -> None:
    await index_songs([song_row(rng, title=f"Failover {i}") for i in range(3)])  # type: ignore[arg-type]
    limiter = RateLimiter(redis_client, redis_prefix, RateLimitSettings(window_s=60))
    slot_key = f"{redis_prefix}rl:{TAG}"
    assert await _limited_three_times(limiter, f"{TAG}before") == [True, True, True, False]
    owner = redis_client.get_node_from_key(slot_key)  # known once the client has connected
    victim = next(n for n in clusters.redis_nodes if n.port == owner.port)

    await kill(clusters, victim)
    statuses = []
    probes = 0
    # Until a replica owns the slot again, every request still gets an answer; the
    # probe is a rate-limit hit on that slot (None while Redis fails: limiting is off).
    while True:
        for n in range(5):  # new queries: each reads and writes cache keys on all slots
            response = await search_client.get(
                "/v1/search/songs", params={"q": f"failover {probes}-{n}"}
            )
            statuses.append(response.status_code)
        probes += 1
        if await limiter.hit(f"{TAG}probe", 1_000) is not None or probes >= 400:
            break
    promoted = redis_client.get_node_from_key(slot_key)
    after = await _limited_three_times(limiter, f"{TAG}after")
    cached = [
        (await search_client.get("/v1/search/songs", params={"q": "failover"})).headers["x-cache"]
        for _ in range(2)
    ]
    await restore(clusters)

    assert set(statuses) == {200}
    assert probes < 400, "no replica took the slot over"
    assert promoted.port != victim.port
    assert after == [True, True, True, False]
    assert cached == ["miss", "hit"]  # the cache works again on the promoted replica
    assert key_slot(f"{redis_prefix}rl:{TAG}after".encode()) == key_slot(slot_key.encode())
