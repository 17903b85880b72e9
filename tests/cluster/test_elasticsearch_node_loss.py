"""One node of the 3-node Elasticsearch cluster killed while the API reads, the API
writes and a sync runs: reads answer (the client retries on the other nodes, replicas
are promoted), the sync loses nothing, and its check finds the index clean."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from devstack.cluster import ClusterStack, ElasticsearchNode
from pipelines import checkpoints
from pipelines.check import check_songs
from pipelines.sync import SongSync, SyncOptions
from tests.cluster.conftest import kill, restore
from tests.fixtures.catalog import Factory

FAST = SyncOptions(batch_size=50, settle_s=0.0, idle_wait_s=0.05, max_backoff_s=0.5)
# What the API may answer while a node is gone: 503 is the documented "store
# unavailable" answer (docs/errors.md); anything else 5xx is a bug.
ALLOWED = {200, 503}


def _not_the_master(stack: ClusterStack) -> ElasticsearchNode:
    """The highest-numbered node that is not the elected master: losing a data node is
    the case under test, not a master election."""
    with urllib.request.urlopen(  # noqa: S310 - loopback
        f"{stack.es_nodes[0].url}/_cat/master?format=json", timeout=5
    ) as response:
        master = json.load(response)[0]["node"]
    return next(n for n in reversed(stack.es_nodes) if not master.endswith(f"-{n.number}"))


async def _applied_at_least(db: AsyncDatabase[MongoDocument], count: int) -> bool:
    for _ in range(600):
        if (await checkpoints.load(db, "songs")).applied >= count:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.fixture
def sync(
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    search_client: httpx.AsyncClient,
) -> SongSync:
    """`search_client` first: its app creates the indices (with a replica each)."""
    return SongSync(mongo_db, es_client, search_settings.elasticsearch, options=FAST)


async def test_a_killed_node_costs_no_answer_and_no_document(
    clusters: ClusterStack,
    sync: SongSync,
    make_song: Factory,
    search_client: httpx.AsyncClient,
    es_client: AsyncElasticsearch,
) -> None:
    before = [await make_song() for _ in range(5)]
    stop = asyncio.Event()
    follower = asyncio.create_task(sync.follow(stop, "polling"))
    reads: list[tuple[bool, int]] = []  # (node down at the time, status)
    node_down = False
    reading = True
    enough_reads_while_down = asyncio.Event()

    async def read() -> None:
        n = 0
        while reading:
            n += 1  # a new query each time: answered by Elasticsearch, not the cache
            response = await search_client.get("/v1/search/songs", params={"q": f"song {n}"})
            reads.append((node_down, response.status_code))
            if sum(down for down, _ in reads) >= 20:
                enough_reads_while_down.set()
            await asyncio.sleep(0.02)

    reader = asyncio.create_task(read())
    try:
        assert await _applied_at_least(sync.db, len(before))
        victim = _not_the_master(clusters)
        await kill(clusters, victim)
        node_down = True
        during = [await make_song() for _ in range(10)]
        assert await _applied_at_least(sync.db, len(before) + len(during))
        await asyncio.wait_for(enough_reads_while_down.wait(), timeout=300)  # hang guard
        await restore(clusters)
        node_down = False
        after = [await make_song() for _ in range(3)]
        assert await _applied_at_least(sync.db, len(before) + len(during) + len(after))
    finally:
        reading = False
        await reader
        stop.set()
        await follower

    await es_client.indices.refresh(index=sync.alias)
    report = await check_songs(sync.db, es_client, sync.config)
    assert (report.lost, report.unexpected, report.stale) == ([], [], [])
    assert {status for _, status in reads} <= ALLOWED, reads
    assert sum(down for down, _ in reads) >= 20
