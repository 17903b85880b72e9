from __future__ import annotations

import pytest
from asgi_lifespan import LifespanManager

from beatstream.app import create_app
from beatstream.errors import StoreUnavailableError
from beatstream.settings import Settings
from tests.fixtures.ports import unused_port


async def test_start_refuses_when_a_store_is_unreachable(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    port = unused_port()
    settings = settings.model_copy(
        update={
            "elasticsearch": settings.elasticsearch.model_copy(
                update={"url": f"http://elastic:topsecret@127.0.0.1:{port}"}
            ),
        }
    )

    with pytest.raises(StoreUnavailableError) as excinfo:
        async with LifespanManager(create_app(settings)):
            pass

    assert excinfo.value.store == "elasticsearch"
    assert f"http://elastic:***@127.0.0.1:{port}" in str(excinfo.value)
    logged = [r.getMessage() for r in caplog.records if r.name == "beatstream.lifespan"]
    assert logged
    assert logged[0].startswith("cannot start: elasticsearch unreachable at")
    assert all("topsecret" not in line for line in logged)


async def test_start_initialises_beanie_on_the_configured_database(settings: Settings) -> None:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        stores = manager._state["stores"]
        assert stores.mongo_db.name == settings.mongodb.db
