"""The `Annotated` aliases hand routes the lifespan's own clients, ready to use."""

from __future__ import annotations

from typing import Any

from beatstream.app import create_app
from beatstream.deps import EsDep, MongoDbDep, RedisDep, SettingsDep
from beatstream.settings import Settings
from tests.fixtures.app import running


async def test_dependency_aliases_resolve_to_live_clients(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/_test/deps")
    async def uses_every_store(
        es: EsDep, redis: RedisDep, db: MongoDbDep, current: SettingsDep
    ) -> dict[str, Any]:
        return {
            "es": (await es.info())["version"]["number"],
            "redis": await redis.ping(),
            "mongo_db": db.name,
            "mongo_ping": (await db.command("ping"))["ok"],
            "prefix": current.elasticsearch.index_prefix,
        }

    async with running(app) as http:
        body = (await http.get("/_test/deps")).json()

    assert body["es"][0].isdigit()
    assert body["redis"] is True
    assert body["mongo_db"] == settings.mongodb.db
    assert body["mongo_ping"] == 1.0
    assert body["prefix"] == settings.elasticsearch.index_prefix
