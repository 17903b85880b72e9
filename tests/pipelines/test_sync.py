"""Incremental sync on the real servers: the polling path (the stand-in has no change
streams), external versions, checkpoints, check and repair, Elasticsearch outages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores.capabilities import Capability, ServerCapabilities
from beatstream.stores.clients import MongoDocument
from pipelines import checkpoints, dead_letters
from pipelines.check import check_songs, repair_songs
from pipelines.sync import SongSync, SyncOptions
from tests.fixtures.catalog import Factory

FAST = SyncOptions(batch_size=50, settle_s=0.0, idle_wait_s=0.05, max_backoff_s=0.5)


@pytest.fixture
def sync(
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    search_settings: Settings,
    search_client: httpx.AsyncClient,
) -> SongSync:
    """`search_client` first: its app creates the indices."""
    return SongSync(mongo_db, es_client, search_settings.elasticsearch, options=FAST)


async def _indexed(es: AsyncElasticsearch, sync: SongSync, song_id: str) -> dict[str, Any]:
    found = await _es_doc(es, sync, song_id)
    assert found is not None, f"{song_id} is not in the index"
    return found


async def _es_doc(es: AsyncElasticsearch, sync: SongSync, song_id: str) -> dict[str, Any] | None:
    found = await es.options(ignore_status=404).get(index=sync.alias, id=song_id)
    return dict(found["_source"]) if found.get("found") else None


async def test_inserts_updates_and_deletes_reach_elasticsearch(
    sync: SongSync,
    search_client: httpx.AsyncClient,
    make_song: Factory,
    es_client: AsyncElasticsearch,
) -> None:
    kept, edited, gone = [await make_song() for _ in range(3)]
    await search_client.patch(f"/v1/songs/{edited['id']}", json={"title": "Renamed"})
    await search_client.delete(f"/v1/songs/{gone['id']}")

    applied = await sync.catch_up()

    assert applied >= 3
    assert (await _indexed(es_client, sync, kept["id"]))["title"] == kept["title"]
    assert (await _indexed(es_client, sync, edited["id"]))["title"] == "Renamed"
    assert await _es_doc(es_client, sync, gone["id"]) is None
    await es_client.indices.refresh(index=sync.alias)
    assert (await check_songs(sync.db, es_client, sync.config)).clean


async def test_an_artist_rename_reaches_every_song(
    sync: SongSync,
    search_client: httpx.AsyncClient,
    make_artist: Factory,
    make_song: Factory,
    es_client: AsyncElasticsearch,
) -> None:
    artist = await make_artist(name="Mark Ronson")
    songs = [await make_song(artist["id"]) for _ in range(3)]
    await sync.catch_up()

    await search_client.patch(f"/v1/artists/{artist['id']}", json={"name": "Ronson"})
    await sync.catch_up()

    for song in songs:
        assert (await _indexed(es_client, sync, song["id"]))["artist_name"] == "Ronson"


async def test_a_replayed_older_write_never_overwrites_or_resurrects(
    sync: SongSync,
    search_client: httpx.AsyncClient,
    make_song: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
) -> None:
    song = await make_song()
    old_row = await mongo_db.songs.find_one({})
    assert old_row is not None
    await search_client.patch(f"/v1/songs/{song['id']}", json={"title": "Newer"})
    await sync.catch_up()

    await sync.apply([old_row], [])
    assert (await _indexed(es_client, sync, song["id"]))["title"] == "Newer"

    await search_client.delete(f"/v1/songs/{song['id']}")
    await sync.catch_up()
    await sync.apply([old_row], [])
    assert await _es_doc(es_client, sync, song["id"]) is None


async def test_a_restart_resumes_from_the_checkpoint(
    sync: SongSync,
    make_song: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    for _ in range(4):
        await make_song()
    assert await sync.catch_up() == 4
    for _ in range(2):
        await make_song()

    restarted = SongSync(sync.db, sync.es, sync.config, options=FAST)

    assert await restarted.catch_up() == 2
    saved = await checkpoints.load(mongo_db, "songs")
    assert saved.applied == 6
    assert saved.mode == "polling"


async def test_a_rejected_document_is_dead_lettered_and_the_sync_moves_on(
    sync: SongSync,
    make_song: Factory,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
) -> None:
    bad = await make_song()
    await mongo_db.songs.update_one({}, {"$set": {"views_per_country": {"XX": 1}}})
    good = await make_song()

    await sync.catch_up()

    assert await dead_letters.count(mongo_db, "sync") == 1
    assert await _es_doc(es_client, sync, good["id"]) is not None
    assert bad["id"] != good["id"]


async def test_check_finds_lost_unexpected_and_stale_and_repair_fixes_them(
    sync: SongSync,
    make_song: Factory,
    es_client: AsyncElasticsearch,
) -> None:
    lost, stale, fine = [await make_song() for _ in range(3)]
    await sync.catch_up()
    await es_client.delete(index=sync.alias, id=lost["id"])
    await es_client.update(index=sync.alias, id=stale["id"], doc={"title": "Tampered"})
    await es_client.index(
        index=sync.alias,
        id="6650f1c2a1b2c3d4e5f60718",
        document=(await _es_doc(es_client, sync, fine["id"])) | {"id": "6650f1c2a1b2c3d4e5f60718"},
    )
    await es_client.indices.refresh(index=sync.alias)

    report = await check_songs(sync.db, es_client, sync.config)

    assert report.lost == [lost["id"]]
    assert report.stale == [stale["id"]]
    assert report.unexpected == ["6650f1c2a1b2c3d4e5f60718"]
    await repair_songs(sync, report)
    await es_client.indices.refresh(index=sync.alias)
    assert (await check_songs(sync.db, es_client, sync.config)).clean


@contextlib.asynccontextmanager
async def tcp_proxy(target_port: int) -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A loopback proxy to Elasticsearch that refuses connections while `down` is set."""
    down = asyncio.Event()
    writers: set[asyncio.StreamWriter] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if down.is_set():
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        writers.update({writer, up_writer})
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def sever() -> None:
        """Going down also cuts the open connections: a client holding a keep-alive
        connection from before the outage would otherwise never notice it."""
        await down.wait()
        for writer in writers:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    severing = asyncio.create_task(sever())
    try:
        yield server.sockets[0].getsockname()[1], down
    finally:
        severing.cancel()
        server.close()
        for writer in writers:
            writer.close()


OUTAGE_S = 30


async def test_a_30_second_elasticsearch_outage_is_retried_and_nothing_is_lost(
    sync: SongSync,
    make_song: Factory,
    search_settings: Settings,
    es_client: AsyncElasticsearch,
) -> None:
    es_port = int(search_settings.elasticsearch.hosts[0].rsplit(":", 1)[1])
    async with tcp_proxy(es_port) as (port, down):
        flaky = AsyncElasticsearch(f"http://127.0.0.1:{port}", max_retries=0, request_timeout=5)
        backoff = SyncOptions(batch_size=50, settle_s=0.0, idle_wait_s=0.05, max_backoff_s=4.0)
        worker = SongSync(sync.db, flaky, sync.config, options=backoff)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.follow(stop, "polling"))
        try:
            first = [await make_song() for _ in range(3)]
            down.set()
            during = [await make_song() for _ in range(3)]
            await asyncio.sleep(OUTAGE_S)
            status = await checkpoints.load(sync.db, "songs")
            down.clear()
            for _ in range(200):
                await asyncio.sleep(0.1)
                if (await checkpoints.load(sync.db, "songs")).applied >= 6:
                    break
        finally:
            stop.set()
            await task
            await flaky.close()

    assert status.last_error is not None
    for song in first + during:
        assert await _es_doc(es_client, sync, song["id"]) is not None
    await es_client.indices.refresh(index=sync.alias)
    assert (await check_songs(sync.db, es_client, sync.config)).clean


async def test_the_mode_follows_the_detected_capabilities(
    sync: SongSync, mongo_capabilities: dict[str, Capability]
) -> None:
    """Given capabilities are read as they are; without them, detected once."""
    for streams, expected in ((True, "change_stream"), (False, "polling")):
        given = ServerCapabilities(change_streams=streams)
        chosen = SongSync(sync.db, sync.es, sync.config, capabilities=given)
        assert await chosen.choose_mode("auto") == expected
    detected = "change_stream" if mongo_capabilities["change_streams"].available else "polling"
    assert await sync.choose_mode("auto") == detected
    assert sync.capabilities is not None
    assert await sync.choose_mode("polling") == "polling"
