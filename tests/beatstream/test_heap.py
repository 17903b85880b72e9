"""While the app serves, what start-up built is frozen out of the collector's scans and
young collections are rare (beatstream.heap); both are undone when it stops."""

from __future__ import annotations

import gc

from beatstream.app import create_app
from beatstream.heap import GEN0_THRESHOLD
from beatstream.settings import Settings
from tests.fixtures.app import running


async def test_a_serving_app_has_frozen_its_start_up_heap(
    settings: Settings, mongo_db: object, redis_prefix: str
) -> None:
    before = gc.get_threshold()
    async with running(create_app(settings)) as http:
        assert (await http.get("/health/live")).status_code == 200
        frozen = gc.get_freeze_count()
        serving = gc.get_threshold()

    assert frozen > 10_000  # the app's routes, models and clients, at least
    assert serving[0] == GEN0_THRESHOLD
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
