"""Benchmarked processes: `beatstream serve` (or any `python -m` server) on a free port,
the environment that points a child process at the scratch stores, and the `sync`
worker a crash benchmark SIGKILLs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx

from beatstream.settings import Settings

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (`/proc/<pid>/stat`): per request,
    steadier than req/s on a shared machine, where the load generator and neighbours
    take turns with the server."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(
    args: list[str], env: dict[str, str], cwd: str | None = None, stderr: IO[bytes] | None = None
) -> Iterator[tuple[str, int]]:
    """`python -m <args> --port <free port>` in its own process (in `cwd`, which `-m`
    puts first on the import path; its stdout and stderr to `stderr`, default
    inherited), once
    `/health/live` answers: yields (base URL, pid); stopped when the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", *args, "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=stderr,
        stderr=stderr,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/health/live", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 60 s")
            time.sleep(0.3)
        yield base_url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def served(env: dict[str, str], workers: int = 1, cwd: str | None = None) -> Iterator[str]:
    """`beatstream serve` in its own process on a free port; yields its base URL."""
    args = ["beatstream", "serve", "--workers", str(workers)]
    with serving(args, env, cwd) as (base_url, _pid):
        yield base_url


def process_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment of a `beatstream` child process (API or sync) on these (scratch)
    stores, plus `overrides` (flat variable names, e.g. `SECURITY_JWT_SECRET=...`)."""
    return {
        **os.environ,
        "MONGODB_URL": settings.mongodb.url,
        "MONGODB_DB": settings.mongodb.db,
        "ELASTICSEARCH_URL": settings.elasticsearch.url,
        "ELASTICSEARCH_INDEX_PREFIX": settings.elasticsearch.index_prefix,
        "REDIS_URL": settings.redis.url,
        "REDIS_CLUSTER": "true" if settings.redis.cluster else "false",
        "REDIS_KEY_PREFIX": settings.redis.key_prefix,
        "LOG_LEVEL": "WARNING",
        # A benchmark measures work, not refusals: thousands of requests from one
        # address or account would meet the limits (apikey_overhead turns them on).
        "RATELIMIT_ENABLED": "false",
        **overrides,
    }


async def start_sync_worker(env: dict[str, str], batch_size: int) -> asyncio.subprocess.Process:
    """`beatstream sync --follow` by polling, in its own process, so it can be SIGKILLed."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beatstream",
        "sync",
        "--follow",
        "--mode",
        "polling",
        "--batch-size",
        str(batch_size),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def sigkill(worker: asyncio.subprocess.Process) -> None:
    """Kill without warning (no handler runs, nothing is flushed), as a crash would."""
    if worker.returncode is not None:
        stderr = await worker.stderr.read() if worker.stderr else b""
        raise RuntimeError(f"the sync worker died by itself: {stderr.decode()[-2000:]}")
    worker.send_signal(signal.SIGKILL)
    await asyncio.wait_for(worker.wait(), timeout=10)
