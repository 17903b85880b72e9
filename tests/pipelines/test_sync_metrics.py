"""The sync's own metrics port reports what it does while following: changes applied,
batches, lag, checkpoint age and how it reads changes (real stores, polling: the
stand-in has no change streams)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from pipelines import checkpoints, metrics
from pipelines.sync import SOURCE, SongSync, SyncOptions
from tests.beatstream.metrics.scrape import Samples, delta, parse
from tests.fixtures.catalog import Factory
from tests.fixtures.ports import unused_port

FAST = SyncOptions(batch_size=2, settle_s=0.0, idle_wait_s=0.05, max_backoff_s=0.5)
SONGS = 5


@pytest.fixture
def metrics_url() -> Iterator[str]:
    port = unused_port()
    server = metrics.serve(port, "127.0.0.1")
    try:
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        server.shutdown()
        server.server_close()


async def _scrape(url: str) -> Samples:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    return parse(response.text)


async def _applied(db: AsyncDatabase[MongoDocument]) -> int:
    return (await checkpoints.load(db, SOURCE)).applied


async def test_following_reports_applied_batches_lag_and_mode(
    metrics_url: str,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    search_client: httpx.AsyncClient,
    make_song: Factory,
) -> None:
    sync = SongSync(mongo_db, es_client, search_settings.elasticsearch, options=FAST)
    before = await _scrape(metrics_url)
    for _ in range(SONGS):
        await make_song()
    stop = asyncio.Event()
    following = asyncio.create_task(sync.follow(stop, "polling"))
    try:
        # Handshake: wait (bounded) for the checkpoint to show every song applied.
        for _ in range(400):
            if await _applied(mongo_db) >= SONGS:
                break
            await asyncio.sleep(0.025)
        during = await _scrape(metrics_url)
    finally:
        stop.set()
        await following

    applied = await _applied(mongo_db)
    assert applied == SONGS
    assert delta(during, before, "beatstream_sync_applied_total", source="songs") == SONGS
    # Batches of two: three batches for five songs, every song in one.
    batches = delta(during, before, "beatstream_sync_batch_size_count", source="songs")
    assert batches == 3
    assert delta(during, before, "beatstream_sync_batch_size_sum", source="songs") == SONGS
    assert (
        delta(during, before, "beatstream_sync_batch_duration_seconds_count", source="songs") == 3
    )
    mode = {
        m: during[("beatstream_sync_mode", frozenset({("source", "songs"), ("mode", m)}))]
        for m in metrics.MODES
    }
    assert mode == {"polling": 1, "change_stream": 0}
    lag = during[("beatstream_sync_lag_seconds", frozenset({("source", "songs")}))]
    age = during[("beatstream_sync_checkpoint_age_seconds", frozenset({("source", "songs")}))]
    # Just applied what was just written: minutes would mean the lag is measured wrong.
    assert 0 <= lag < 60
    assert 0 <= age < 60


def test_lag_grows_while_nothing_is_known_to_be_applied() -> None:
    """A stuck sync (store down) records nothing: its lag must keep growing, not freeze."""
    metrics.FRESHNESS.fresh_at["stuck-source"] = 1_000.0  # long ago
    try:
        lag = next(
            sample.value
            for family in metrics.FRESHNESS.collect()
            for sample in family.samples
            if sample.name == "beatstream_sync_lag_seconds"
            and sample.labels == {"source": "stuck-source"}
        )
    finally:
        del metrics.FRESHNESS.fresh_at["stuck-source"]
    assert lag > 1_000_000
