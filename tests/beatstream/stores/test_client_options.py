"""Each MongoDB timeout setting reaches the PyMongo option it is named after."""

from __future__ import annotations

from beatstream.settings import MongoSettings
from beatstream.stores.clients import create_mongo_client


async def test_each_timeout_setting_sets_the_option_of_its_name() -> None:
    settings = MongoSettings(
        server_selection_timeout_ms=1234, connect_timeout_ms=5678, socket_timeout_ms=9100
    )
    client = create_mongo_client(settings)
    try:
        assert client.options.server_selection_timeout == 1.234
        assert client.options.pool_options.connect_timeout == 5.678
        assert client.options.pool_options.socket_timeout == 9.1
    finally:
        await client.close()


async def test_operations_have_no_socket_timeout_unless_one_is_set() -> None:
    client = create_mongo_client(MongoSettings())
    try:
        assert client.options.pool_options.socket_timeout is None
        assert client.options.server_selection_timeout == 3.0
    finally:
        await client.close()
