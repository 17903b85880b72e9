"""The NDJSON export streams: a served API's peak memory does not grow with the view.

The API runs in its own process so its memory is its own: `VmHWM` (the high-water
mark of its resident set, /proc/<pid>/status) is read after a first small page,
after exporting 10,000 rows and after exporting 100,000.

On a server whose aggregation cursors honour `batchSize` (MongoDB) the export holds
one batch; on one that answers an aggregation in one reply (the stand-in, capability
`aggregate_batches`) it reads keyset pages of 5,000 rows instead. Either way 100,000
rows may cost at most `MAX_GROWTH_MIB` more than 10,000 (a whole 100k view held at
once cost 63.5 MiB more as raw BSON, about 150 MiB decoded). The figures are printed
(`pytest -s`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.partners.service import create_key
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from tests.beatstream.partners.views.data import insert_in_batches, many_listeners
from tests.fixtures.servers import ServedApi, serve_api

PATH = "/v1/thirdparty/listener_actions"
# Extra peak memory allowed for 100k rows over 10k, streaming batch by batch or page
# by page.
MAX_GROWTH_MIB = 24

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/<pid>/status")


def peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def export_lines(http: httpx.AsyncClient, api: ServedApi, headers: dict[str, str]) -> int:
    lines = 0
    async with http.stream(
        "GET", api.url + PATH, params={"format": "ndjson"}, headers=headers, timeout=600
    ) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            lines += chunk.count(b"\n")
    return lines


async def test_export_of_100k_rows_runs_in_bounded_memory(
    client: httpx.AsyncClient,
    mongo_db: AsyncDatabase[MongoDocument],
    redis_prefix: str,
    settings: Settings,
) -> None:
    key, _ = await create_key("memory", ["views:read"], 1_000_000)
    headers = {"X-API-Key": key}
    env = {
        "MONGODB_URL": settings.mongodb.url,
        "MONGODB_DB": settings.mongodb.db,
        "ELASTICSEARCH_URL": settings.elasticsearch.url,
        "ELASTICSEARCH_MANAGE_INDICES": "false",
        "REDIS_URL": settings.redis.url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "THIRDPARTY_PSEUDONYM_SECRET": "m" * 32,
        # The dummy argon2 hash made at start-up holds SECURITY_PASSWORD_MEMORY_KIB
        # (64 MiB by default) for a moment: that high-water mark would hide any
        # growth of the export below it.
        "SECURITY_PASSWORD_MEMORY_KIB": "1024",
    }
    rows = many_listeners(100_000)
    await insert_in_batches(mongo_db, (next(rows) for _ in range(10_000)))
    with serve_api(env) as api:
        async with httpx.AsyncClient(timeout=60) as http:
            page = await http.get(api.url + PATH, params={"limit": 5}, headers=headers)
            assert page.status_code == 200, page.text
            baseline = peak_mib(api.pid)

            assert await export_lines(http, api, headers) == 10_000
            after_10k = peak_mib(api.pid)
            await insert_in_batches(mongo_db, rows)
            assert await export_lines(http, api, headers) == 100_000
            after_100k = peak_mib(api.pid)

    print(  # the figures, for the report (pytest -s)
        f"peak RSS MiB: baseline {baseline:.1f}, after 10k {after_10k:.1f},"
        f" after 100k {after_100k:.1f}"
    )
    assert after_100k - after_10k < MAX_GROWTH_MIB
    assert after_100k - baseline < 2 * MAX_GROWTH_MIB
