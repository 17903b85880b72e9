from __future__ import annotations

import asyncio

import pytest

from beatstream.errors import StoreUnavailableError
from beatstream.settings import Settings
from beatstream.stores import close_stores, open_stores, probe_all, require_all_up
from tests.fixtures.ports import unused_port


async def test_every_store_reports_its_own_version(base_settings: Settings) -> None:
    stores = open_stores(base_settings)
    try:
        statuses = await probe_all(stores, timeout_s=5)
    finally:
        await close_stores(stores)

    assert [s.name for s in statuses] == ["mongodb", "elasticsearch", "redis"]
    for status in statuses:
        assert status.up, status
        assert status.version
        assert status.version[0].isdigit()
        assert status.rtt_ms is not None
        assert status.rtt_ms >= 0


async def test_a_store_that_is_down_is_named_with_its_redacted_url(base_settings: Settings) -> None:
    port = unused_port()
    settings = base_settings.model_copy(
        update={
            "redis": base_settings.redis.model_copy(
                update={"url": f"redis://:hunter2@127.0.0.1:{port}/0", "socket_timeout_s": 0.5}
            ),
        }
    )
    stores = open_stores(settings)
    try:
        statuses = {s.name: s for s in await probe_all(stores, timeout_s=3)}
        with pytest.raises(StoreUnavailableError) as excinfo:
            await require_all_up(stores, timeout_s=3)
    finally:
        await close_stores(stores)

    assert statuses["mongodb"].up
    assert statuses["elasticsearch"].up
    assert not statuses["redis"].up
    assert statuses["redis"].error
    assert excinfo.value.store == "redis"
    assert f"redis://:***@127.0.0.1:{port}/0" in str(excinfo.value)
    assert "hunter2" not in str(excinfo.value)


async def test_a_store_that_never_answers_times_out(base_settings: Settings) -> None:
    """A listener that accepts but never replies: the probe's deadline, not the client's, wins."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = base_settings.model_copy(
        update={
            "elasticsearch": base_settings.elasticsearch.model_copy(
                update={"url": f"http://127.0.0.1:{port}"}
            ),
        }
    )
    stores = open_stores(settings)
    try:
        statuses = {s.name: s for s in await probe_all(stores, timeout_s=0.5)}
    finally:
        await close_stores(stores)
        server.close()
    assert statuses["elasticsearch"].error == "no answer within 0.5s"
