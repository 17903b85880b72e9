"""Hot reads kept per process (beatstream.cache.reads): served without a MongoDB round
trip, yet a write through any app instance sharing Redis is seen on the very next read."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import httpx
from beanie import PydanticObjectId
from pymongo import monitoring
from redis.exceptions import ConnectionError as RedisConnectionError

from beatstream.app import create_app
from beatstream.auth.principals import Role
from beatstream.cache.reads import GenerationClock, Snapshot
from beatstream.cache.store import ResponseCache
from beatstream.listeners.documents import Listener
from beatstream.settings import Settings
from seed.builders import artist_payload, listener_payload, song_payload
from tests.fixtures.app import http_client, serving
from tests.fixtures.tokens import account_upsert, bearer


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


@contextlib.asynccontextmanager
async def two_apps(
    settings: Settings, log: CommandLog
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient]]:
    """Two app instances on the same stores (as two processes would be): an admin and an
    anonymous client on the first, an admin on the second. `log` counts both apps'
    MongoDB commands (Beanie binds its documents to the client started last)."""
    async with (
        serving(create_app(settings, mongo_listeners=[log])) as one,
        serving(create_app(settings, mongo_listeners=[log])) as other,
    ):
        subject = PydanticObjectId()
        await Listener.get_pymongo_collection().update_one(
            *account_upsert(subject, Role.admin), upsert=True
        )
        admin = bearer(Role.admin, subject)
        async with (
            http_client(one, admin) as reader,
            http_client(one) as anonymous,
            http_client(other, admin) as writer,
        ):
            yield reader, anonymous, writer


async def _song(http: httpx.AsyncClient, rng: random.Random) -> dict[str, Any]:
    artist = (await http.post("/v1/artists", json=artist_payload(rng))).json()
    response = await http.post("/v1/songs", json=song_payload(rng, artist["id"]))
    assert response.status_code == 201
    return dict(response.json())


async def test_a_song_read_again_costs_no_mongodb_round_trip(
    settings: Settings, mongo_db: object, redis_prefix: str, rng: random.Random
) -> None:
    log = CommandLog()
    async with two_apps(settings, log) as (reader, _anonymous, _writer):
        song = await _song(reader, rng)
        log.names.clear()
        first = await reader.get(f"/v1/songs/{song['id']}")
        second = await reader.get(f"/v1/songs/{song['id']}")
        not_modified = await reader.get(
            f"/v1/songs/{song['id']}", headers={"If-None-Match": first.headers["etag"]}
        )

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"] == '"1"'
    assert not_modified.status_code == 304
    assert log.names.count("find") == 1


async def test_a_song_written_through_another_app_is_seen_on_the_next_read(
    settings: Settings, mongo_db: object, redis_prefix: str, rng: random.Random
) -> None:
    log = CommandLog()
    async with two_apps(settings, log) as (reader, _anonymous, writer):
        song = await _song(reader, rng)
        url = f"/v1/songs/{song['id']}"
        assert (await reader.get(url)).json()["title"] == song["title"]  # kept by the reader

        assert (await writer.patch(url, json={"title": "Renamed"})).status_code == 200
        renamed = await reader.get(url)
        assert (await writer.delete(url)).status_code == 204
        deleted = await reader.get(url)

    assert renamed.json()["title"] == "Renamed"
    assert renamed.headers["etag"] == '"2"'
    assert deleted.status_code == 404


async def test_an_artist_renamed_elsewhere_is_seen_in_its_songs_and_playlists(
    settings: Settings, mongo_db: object, redis_prefix: str, rng: random.Random
) -> None:
    log = CommandLog()
    async with two_apps(settings, log) as (reader, anonymous, writer):
        song = await _song(reader, rng)
        playlist = await _public_playlist(reader, rng, [song["id"]])
        assert (await anonymous.get(f"/v1/songs/{song['id']}")).status_code == 200
        assert (await anonymous.get(f"/v1/playlists/{playlist['id']}")).status_code == 200

        artist_url = f"/v1/artists/{song['artist']['id']}"
        assert (await writer.patch(artist_url, json={"name": "New Name"})).status_code == 200
        song_after = (await anonymous.get(f"/v1/songs/{song['id']}")).json()
        playlist_after = (await anonymous.get(f"/v1/playlists/{playlist['id']}")).json()

    assert song_after["artist"]["name"] == "New Name"
    assert playlist_after["songs"][0]["song"]["artist"]["name"] == "New Name"


async def _public_playlist(
    http: httpx.AsyncClient, rng: random.Random, song_ids: Sequence[str]
) -> dict[str, Any]:
    listener = (await http.post("/v1/listeners", json=listener_payload(rng))).json()
    created = await http.post(
        f"/v1/listeners/{listener['id']}/playlists",
        json={"name": "Shared", "visibility": "public"},
    )
    playlist = dict(created.json())
    added = await http.post(
        f"/v1/playlists/{playlist['id']}/songs", json={"song_ids": list(song_ids)}
    )
    assert added.status_code == 200
    return playlist


async def test_a_public_playlist_is_kept_and_made_private_elsewhere_is_hidden_at_once(
    settings: Settings, mongo_db: object, redis_prefix: str, rng: random.Random
) -> None:
    log = CommandLog()
    async with two_apps(settings, log) as (reader, anonymous, writer):
        song = await _song(reader, rng)
        playlist = await _public_playlist(reader, rng, [song["id"]])
        url = f"/v1/playlists/{playlist['id']}"
        log.names.clear()
        first = await anonymous.get(url)
        second = await anonymous.get(url)
        reads = log.names.count("aggregate")

        made_private = await writer.patch(url, json={"visibility": "private"})
        hidden = await anonymous.get(url)
        owner_view = await reader.get(url)  # the admin still reads it

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert reads == 1
    assert made_private.status_code == 200
    assert hidden.status_code == 404
    assert owner_view.status_code == 200
    assert owner_view.json()["visibility"] == "private"


async def test_a_private_playlist_is_never_kept(
    settings: Settings, mongo_db: object, redis_prefix: str, rng: random.Random
) -> None:
    log = CommandLog()
    async with two_apps(settings, log) as (reader, anonymous, _writer):
        listener = (await reader.post("/v1/listeners", json=listener_payload(rng))).json()
        created = await reader.post(
            f"/v1/listeners/{listener['id']}/playlists", json={"name": "Mine"}
        )
        url = f"/v1/playlists/{created.json()['id']}"
        log.names.clear()
        owner_reads = [(await reader.get(url)).status_code for _ in range(2)]
        stranger = await anonymous.get(url)

    assert owner_reads == [200, 200]
    assert stranger.status_code == 404
    assert log.names.count("aggregate") == 3  # every read went to MongoDB


class _GatedCache:
    """Generations served one read at a time, each released by the test."""

    def __init__(self) -> None:
        self.reads = 0
        self.gate = asyncio.Event()
        self.fail = False

    async def generations(self, namespaces: Sequence[str]) -> tuple[int, ...]:
        self.reads += 1
        started_as = self.reads
        await self.gate.wait()
        self.gate.clear()
        if self.fail:
            raise RedisConnectionError("down")
        return (started_as,) * len(namespaces)

    async def announced(self, after: int, through: int) -> list[bytes]:
        return [f"{generation}:".encode() for generation in range(after + 1, through + 1)]


async def test_a_snapshot_never_joins_a_read_already_in_flight() -> None:
    """A caller arriving while a read is on the wire could miss a bump made just before
    it asked: it waits for the next read (which every caller arriving meanwhile shares)."""
    cache = _GatedCache()
    clock = GenerationClock(cast(ResponseCache, cache))
    early = asyncio.create_task(clock.snapshot())
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the first read is in flight now
    late = [asyncio.create_task(clock.snapshot()) for _ in range(3)]
    await asyncio.sleep(0)
    cache.gate.set()
    assert (await early) == Snapshot((1, 1), 1, 0)
    await asyncio.sleep(0)
    cache.gate.set()

    assert [await task for task in late] == [Snapshot((2, 2), 2, 0)] * 3
    assert cache.reads == 2


async def test_a_snapshot_is_none_when_redis_fails() -> None:
    cache = _GatedCache()
    cache.fail = True
    cache.gate.set()
    clock = GenerationClock(cast(ResponseCache, cache))

    assert await clock.snapshot() is None


async def test_a_kept_song_is_answered_like_the_route_with_every_header(
    settings: Settings, mongo_db: object, redis_prefix: str, rng: random.Random
) -> None:
    """The second read is answered before routing (beatstream.fastpath): same body,
    ETag and 304, and still the request id, nosniff and the metrics' route."""
    log = CommandLog()
    async with two_apps(settings, log) as (reader, _anonymous, _writer):
        song = await _song(reader, rng)
        url = f"/v1/songs/{song['id']}"
        routed = await reader.get(url)
        fast = await reader.get(url, headers={"X-Request-ID": "fast-1"})
        not_modified = await reader.get(url, headers={"If-None-Match": fast.headers["etag"]})
        metrics = (await reader.get("/metrics")).text

    for name in ("content-type", "content-length", "etag", "x-content-type-options"):
        assert fast.headers[name] == routed.headers[name]
    assert fast.content == routed.content
    assert fast.headers["x-request-id"] == "fast-1"
    assert not_modified.status_code == 304
    assert "content-length" not in not_modified.headers or not not_modified.content
    assert 'route="/v1/songs/{song_id}"' in metrics


async def test_a_kept_public_playlist_still_refuses_a_bad_token(
    settings: Settings, mongo_db: object, redis_prefix: str, rng: random.Random
) -> None:
    log = CommandLog()
    async with two_apps(settings, log) as (reader, anonymous, _writer):
        song = await _song(reader, rng)
        playlist = await _public_playlist(reader, rng, [song["id"]])
        url = f"/v1/playlists/{playlist['id']}"
        assert (await anonymous.get(url)).status_code == 200  # kept now
        kept = await anonymous.get(url)
        forged = await anonymous.get(url, headers={"Authorization": "Bearer not-a-token"})

    assert kept.status_code == 200
    assert forged.status_code == 401
