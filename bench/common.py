"""Shared set-up for benchmarks that talk to the stack: a scratch database, Beanie bound."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import httpx
from beanie import PydanticObjectId, init_beanie

from beatstream.auth.principals import Role
from beatstream.auth.tokens import TokenCodec
from beatstream.documents import DOCUMENT_MODELS
from beatstream.settings import MongoSettings, Settings
from beatstream.stack.manager import Stack
from beatstream.stores.clients import create_mongo_client


def stack_settings(db: str | None = None) -> Settings:
    """Settings for the running local stack (started if needed), on a scratch database."""
    stack = Stack()
    stack.up(report=lambda _line: None)
    settings = stack.settings()
    name = db or f"bench_{uuid.uuid4().hex[:8]}"
    return settings.model_copy(update={"mongodb": MongoSettings(url=settings.mongodb.url, db=name)})


@contextlib.asynccontextmanager
async def beanie_on_scratch_db(settings: Settings) -> AsyncIterator[None]:
    client = create_mongo_client(settings.mongodb)
    await init_beanie(database=client[settings.mongodb.db], document_models=DOCUMENT_MODELS)
    try:
        yield
    finally:
        await client.drop_database(settings.mongodb.db)
        await client.close()


async def time_each(
    fn: Callable[[], Awaitable[object]], repeat: int, warmup: int = 5
) -> list[float]:
    """Milliseconds per call, `repeat` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        await fn()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 3),
    }


def bearer(secret: str, role: Role = Role.admin, subject: str | None = None) -> dict[str, str]:
    """An `Authorization` header a server started with `SECURITY_JWT_SECRET=secret` accepts:
    benchmarks seed through the API as an admin, with no account behind the token."""
    subject_id = PydanticObjectId(subject) if subject else PydanticObjectId()
    token = TokenCodec(secret, "HS256", ttl_s=3600).issue(subject_id, role).token
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def served(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """`beatstream serve` in its own process on a free port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "beatstream",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ],
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                if httpx.get(f"{base_url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 60 s")
            time.sleep(0.3)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class LoadRun:
    latencies_ms: list[float]
    failures: int
    wall_s: float
    x_cache: Counter[str]

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies_ms) / self.wall_s


async def concurrent_gets(
    base_url: str, paths: list[str], *, clients: int = 50, warmup: list[str] | None = None
) -> LoadRun:
    """`clients` concurrent keep-alive clients working through `paths` once, in order.

    A transport error counts as a failure (and is printed) rather than ending the run.
    """
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        for path in warmup or []:
            (await http.get(path)).raise_for_status()
        run = LoadRun([], 0, 0.0, Counter())
        queue = list(reversed(paths))

        async def client() -> None:
            while queue:
                path = queue.pop()
                started = time.perf_counter()
                try:
                    response = await http.get(path)
                except httpx.TransportError as exc:
                    run.failures += 1
                    print(f"transport error on {path}: {exc!r}")
                    continue
                run.latencies_ms.append((time.perf_counter() - started) * 1000)
                run.failures += response.status_code != 200
                run.x_cache[response.headers.get("x-cache", "-")] += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        run.wall_s = time.perf_counter() - started
        return run
