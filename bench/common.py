"""Shared set-up for benchmarks that talk to the stack: a scratch database, Beanie bound."""

from __future__ import annotations

import contextlib
import socket
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from beanie import init_beanie
from elasticsearch import AsyncElasticsearch

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def drop_search_scratch(es: AsyncElasticsearch, prefix: str) -> None:
    """Remove a benchmark's scratch indices and play template (everything under `prefix`)."""
    found = await es.options(ignore_status=404).indices.get(index=f"{prefix}*")
    if found:
        await es.indices.delete(index=",".join(found))
    await es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-plays")
