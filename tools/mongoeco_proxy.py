"""Serve mongoeco over the MongoDB wire protocol: `python mongoeco_proxy.py PORT`.

mongoeco 4.11 needs Python >= 3.13 and the project runs 3.11, so this file is run by
the interpreter of a separate virtual environment (`devstack.mongoeco` makes it) and
imports nothing of the project. It prints `ready PORT` once the proxy listens and
serves until it is terminated; the data lives in memory and ends with the process.
"""

from __future__ import annotations

import asyncio
import signal
import sys


async def serve(port: int) -> None:
    from mongoeco.wire import AsyncMongoEcoProxyServer  # only importable on >= 3.13

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncMongoEcoProxyServer(host="127.0.0.1", port=port) as proxy:
        print(f"ready {proxy.address.port}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
