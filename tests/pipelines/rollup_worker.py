"""A roll-up in its own process that tears a chunk and waits to be SIGKILLed.

`python -m tests.pipelines.rollup_worker CHUNK PAUSE_AT HALF|ALL` counts plays
(stores from the environment, as `beatstream sync`) in chunks of CHUNK; at its
PAUSE_AT-th counter write (one per chunk with anything left to count) it writes half
(or all) of that chunk's updates, prints `torn` and waits: the test then kills it
with SIGKILL before the checkpoint moves, the worst place for a crash. The test owns
the timing; nothing here sleeps on a clock.
"""

from __future__ import annotations

import asyncio
import sys

from pymongo import UpdateOne

from beatstream.cli.settings import load_settings
from beatstream.stores.clients import close_stores, open_stores
from pipelines.rollup import PlayRollup
from pipelines.sync import SyncOptions


async def main(chunk: int, pause_at: int, written: str) -> None:
    settings = load_settings()
    stores = open_stores(settings)
    writes = 0

    class Tearing(PlayRollup):
        async def write(self, updates: list[UpdateOne]) -> int:
            nonlocal writes
            writes += 1
            if writes < pause_at:
                return await super().write(updates)
            cut = len(updates) // 2 if written == "half" else len(updates)
            await super().write(updates[:cut])
            print("torn", flush=True)
            await asyncio.Event().wait()  # until SIGKILL
            return 0

    try:
        options = SyncOptions(batch_size=chunk, settle_s=0.0)
        rollup = Tearing(stores.mongo_db, stores.es, settings.elasticsearch, options=options)
        await rollup.catch_up()
        print("done", flush=True)
    finally:
        await close_stores(stores)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
