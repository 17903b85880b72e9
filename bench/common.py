"""Shared set-up for benchmarks that talk to the stack: a scratch database, Beanie bound."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from beanie import PydanticObjectId, init_beanie
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.auth.principals import Role
from beatstream.auth.tokens import TokenCodec
from beatstream.documents import DOCUMENT_MODELS
from beatstream.search.indices import drop_prefix
from beatstream.settings import ElasticsearchSettings, MongoSettings, Settings
from beatstream.stores.clients import create_es_client, create_mongo_client
from devstack.manager import Stack


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


async def bearer(settings: Settings, secret: str, role: Role = Role.admin) -> dict[str, str]:
    """An `Authorization` header a server started with `SECURITY_JWT_SECRET=secret` on
    `settings`' database accepts: benchmarks seed through the API as an admin. A token
    counts only while its account exists, so a bare one (no password) is stored."""
    subject = PydanticObjectId()
    now = datetime.now(UTC)
    client = create_mongo_client(settings.mongodb)
    try:
        await client[settings.mongodb.db].listeners.insert_one(
            {
                "_id": subject,
                "name": f"Bench {role.value}",
                "email": f"{subject}@bench.test",
                "year_of_birth": 1990,
                "country": "GB",
                "consent_to_share_data": False,
                "actions": [],
                "password_hash": None,
                "role": role.value,
                "token_generation": 0,
                "listener_key": None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    finally:
        await client.close()
    token = TokenCodec(secret, "HS256", ttl_s=3600).issue(subject, role).token
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class ScratchStores:
    """The stack's MongoDB and Elasticsearch under a scratch database and index prefix."""

    settings: Settings
    db: AsyncDatabase[dict[str, Any]]
    es: AsyncElasticsearch

    @property
    def search(self) -> ElasticsearchSettings:
        return self.settings.elasticsearch


@contextlib.asynccontextmanager
async def scratch_stores() -> AsyncIterator[ScratchStores]:
    """A scratch database and index prefix on the stack, both dropped when done."""
    settings = stack_settings()
    settings = settings.model_copy(
        update={
            "elasticsearch": settings.elasticsearch.model_copy(
                update={"index_prefix": f"bench-{uuid.uuid4().hex[:6]}"}
            )
        }
    )
    mongo = create_mongo_client(settings.mongodb)
    es = create_es_client(settings.elasticsearch)
    try:
        yield ScratchStores(settings, mongo[settings.mongodb.db], es)
    finally:
        await drop_prefix(es, settings.elasticsearch.index_prefix)
        await mongo.drop_database(settings.mongodb.db)
        await mongo.close()
        await es.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(args: list[str], env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`python -m <args> --port <free port>` in its own process, once `/health/live`
    answers: yields (base URL, pid); stopped when the block ends."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", *args, "--port", str(port)], env=env)
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
def served(env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """`beatstream serve` in its own process on a free port; yields its base URL."""
    with serving(["beatstream", "serve", "--workers", str(workers)], env) as (base_url, _pid):
        yield base_url


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
        "REDIS_KEY_PREFIX": settings.redis.key_prefix,
        "LOG_LEVEL": "WARNING",
        # A benchmark measures work, not refusals: thousands of requests from one
        # address or account would meet the limits (apikey_overhead turns them on).
        "RATELIMIT_ENABLED": "false",
        **overrides,
    }


def drop_scratch_db(settings: Settings) -> None:
    """Drop the scratch database a benchmark's server wrote to."""

    async def drop() -> None:
        client = create_mongo_client(settings.mongodb)
        await client.drop_database(settings.mongodb.db)
        await client.close()

    asyncio.run(drop())


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


async def mixed_changes(
    count: int,
    rng: random.Random,
    create: Callable[[], Awaitable[str]],
    update: Callable[[str], Awaitable[object]],
    delete: Callable[[str], Awaitable[object]],
    progress: Callable[[int], None] | None = None,
) -> Counter[str]:
    """`count` changes, 60% inserts, 30% updates, 10% deletes, of random live songs."""
    live: list[str] = []
    made: Counter[str] = Counter()
    for done in range(count):
        roll = rng.random()
        if roll < 0.6 or not live:
            live.append(await create())
            made["inserts"] += 1
        elif roll < 0.9:
            await update(rng.choice(live))
            made["updates"] += 1
        else:
            await delete(live.pop(rng.randrange(len(live))))
            made["deletes"] += 1
        if progress is not None:
            progress(done + 1)
    return made
