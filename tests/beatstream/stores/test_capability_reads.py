"""Capabilities are detected once per process and read from then on: no request tries
a feature the server may lack (and catches the failure) to decide its fallback."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from pymongo import monitoring

from beatstream.app import create_app
from beatstream.settings import Settings
from beatstream.stores.capabilities import CHECKS, Capability, ServerCapabilities
from seed.builders import artist_payload, song_payload
from tests.fixtures.app import running


class CommandLog(monitoring.CommandListener):
    """(command, collection) of every command the app's client sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


def test_server_capabilities_has_one_flag_per_check() -> None:
    assert [f.name for f in fields(ServerCapabilities)] == list(CHECKS)


async def test_requests_read_the_capabilities_instead_of_trying_the_server(
    settings: Settings, mongo_db: object, mongo_capabilities: dict[str, Capability], rng: Any
) -> None:
    """On a server without text search, a search used to send a `$text` find, catch its
    failure, then send the fallback find; on one without `explain`, the diagnostic
    sent `explain` to learn it fails. Now each request sends only what it runs."""
    log = CommandLog()
    async with running(create_app(settings, mongo_listeners=[log])) as http:
        # A song to search: on an empty collection even the stand-in answers `$text`.
        artist = (await http.post("/v1/artists", json=artist_payload(rng))).json()
        await http.post("/v1/songs", json=song_payload(rng, artist["id"]))
        log.sent.clear()
        for _ in range(2):
            response = await http.get("/v1/songs/by-artist", params={"q": "mars"})
            assert response.status_code == 200
        explained = await http.get("/v1/admin/explain/songs/by-year/2014")

    assert log.sent.count(("find", "songs")) == 2
    can_explain = mongo_capabilities["explain"].available
    assert explained.status_code == (200 if can_explain else 501)
    assert [name for name, _ in log.sent].count("explain") == (1 if can_explain else 0)
