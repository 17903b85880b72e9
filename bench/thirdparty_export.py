"""NDJSON export of `listener_actions`: rows/s and the server's peak memory, 10k vs 100k.

One `beatstream serve` process (one worker) on the running stack, on a scratch
database and Redis key prefix, with a fixed pseudonym secret and a partner key.
Listeners go straight into MongoDB (`insert_many`, 5,000 per call), every one
consenting and keyed, each with one subscription action, so the view has exactly
one row per listener. Then, in one run against the same server:

1. 10,000 listeners: `GET /v1/thirdparty/listener_actions?format=ndjson` streamed
   `REPEAT` times, lines counted, wall time per export;
2. 90,000 more (100,000 in all): the same.

Peak memory is the server process's `VmHWM` (high-water RSS, /proc/<pid>/status)
read after start plus one small page, after the 10k exports and after the 100k
exports: if the export held the view in memory, the 100k peak would grow by
roughly ten times the 10k growth. The client is this process, on the same cores as
the server and MongoDB: compare rows within one run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from beanie import init_beanie

from beatstream.documents import DOCUMENT_MODELS
from beatstream.partners.service import create_key
from beatstream.settings import Settings
from beatstream.stores.clients import create_mongo_client
from bench import report
from bench.support.processes import process_env, serving
from bench.support.stores import drop_scratch, stack_settings
from tests.beatstream.partners.views.data import insert_in_batches, many_listeners

SECRET = "t" * 32  # the one the inserted keys were made with (tests/.../data.py)
SIZES = (10_000, 100_000)
REPEAT = 3
PATH = "/v1/thirdparty/listener_actions"


def vm_kib(pid: int, field: str) -> int:
    """`VmHWM` or `VmRSS` of a process, in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def export(base_url: str, headers: dict[str, str]) -> tuple[int, float]:
    """(lines, seconds) of one streamed export."""
    lines = 0
    started = time.perf_counter()
    with httpx.stream(
        "GET", base_url + PATH, params={"format": "ndjson"}, headers=headers, timeout=600
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
    return lines, time.perf_counter() - started


async def _setup(settings: Settings, listeners: int, skip: int) -> str | None:
    """Insert listeners `skip`..`listeners`; on the first call also make the partner key."""
    client = create_mongo_client(settings.mongodb)
    try:
        db = client[settings.mongodb.db]
        await init_beanie(database=db, document_models=DOCUMENT_MODELS)
        documents = (doc for n, doc in enumerate(many_listeners(listeners)) if n >= skip)
        await insert_in_batches(db, documents)
        if skip:
            return None
        key, _ = await create_key("bench", ["views:read"], 1_000_000)
        return key
    finally:
        await client.close()


async def _cleanup(settings: Settings) -> None:
    await drop_scratch(settings, None)


def run() -> Path:
    base = stack_settings()
    scratch = uuid.uuid4().hex[:8]
    # BENCH_MONGODB_URL: another MongoDB-wire server than the stack's (same scratch db).
    mongodb = base.mongodb.model_copy(
        update={"url": os.environ.get("BENCH_MONGODB_URL", base.mongodb.url)}
    )
    settings = base.model_copy(
        update={
            "mongodb": mongodb,
            "redis": base.redis.model_copy(update={"key_prefix": f"bench:tp:{scratch}:"}),
        }
    )
    env = process_env(
        settings,
        ELASTICSEARCH_MANAGE_INDICES="false",
        THIRDPARTY_PSEUDONYM_SECRET=SECRET,
        # The dummy argon2 hash made at start-up holds 64 MiB for a moment by default:
        # that high-water mark would hide the export's own peak.
        SECURITY_PASSWORD_MEMORY_KIB="1024",  # noqa: S106 - a cost, not a password
    )
    table: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    try:
        with serving(["beatstream", "serve", "--workers", "1"], env) as (base_url, pid):
            inserted = 0
            key: str | None = None
            for size in SIZES:
                started = time.perf_counter()
                made = asyncio.run(_setup(settings, size, inserted))
                key = key or made
                assert key is not None
                headers = {"X-API-Key": key}
                result[f"insert_{size}_s"] = round(time.perf_counter() - started, 1)
                inserted = size
                page = httpx.get(base_url + PATH, params={"limit": 5}, headers=headers, timeout=60)
                page.raise_for_status()
                if size == SIZES[0]:
                    result["baseline_hwm_mib"] = round(vm_kib(pid, "VmHWM") / 1024, 1)
                runs = [export(base_url, headers) for _ in range(REPEAT)]
                lines = {count for count, _ in runs}
                if lines != {size}:
                    raise RuntimeError(f"exported {lines} lines, expected {size}")
                seconds = statistics.median(s for _, s in runs)
                table.append(
                    {
                        "listeners": size,
                        "rows": size,
                        "exports": REPEAT,
                        "median_s": round(seconds, 2),
                        "rows_per_s": round(size / seconds),
                        "server_peak_rss_mib": round(vm_kib(pid, "VmHWM") / 1024, 1),
                    }
                )
    finally:
        asyncio.run(_cleanup(settings))
    result.update(rows=table, repeat=REPEAT, mongodb=settings.mongodb.safe_url)
    return report.write("thirdparty_export", result, table)


if __name__ == "__main__":
    run()
