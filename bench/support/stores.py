"""Scratch stores on the running local stack: a throwaway database (and index prefix),
dropped when the benchmark is done, so runs never see each other's data."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from beanie import init_beanie
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.documents import DOCUMENT_MODELS
from beatstream.search.indices import drop_prefix
from beatstream.settings import ElasticsearchSettings, MongoSettings, Settings
from beatstream.stores.clients import create_es_client, create_mongo_client, create_redis_client
from devstack.manager import Stack


def stack_settings(db: str | None = None) -> Settings:
    """Settings for the running local stack (started if needed), on a scratch database."""
    stack = Stack()
    stack.up(report=lambda _line: None)
    settings = stack.settings()
    name = db or f"bench_{uuid.uuid4().hex[:8]}"
    return settings.model_copy(update={"mongodb": MongoSettings(url=settings.mongodb.url, db=name)})


def scratch_settings(name: str) -> Settings:
    """`stack_settings()` with an index prefix and a Redis key prefix of the benchmark's
    own (`bench-<name>-<random>`, `bench:<name>:<random>:`), so its servers share one
    set of scratch names that `drop_scratch` removes afterwards."""
    base = stack_settings()
    scratch = uuid.uuid4().hex[:8]
    return base.model_copy(
        update={
            "elasticsearch": base.elasticsearch.model_copy(
                update={"index_prefix": f"bench-{name}-{scratch}"}
            ),
            "redis": base.redis.model_copy(update={"key_prefix": f"bench:{name}:{scratch}:"}),
        }
    )


@contextlib.asynccontextmanager
async def beanie_on_scratch_db(settings: Settings) -> AsyncIterator[None]:
    client = create_mongo_client(settings.mongodb)
    await init_beanie(database=client[settings.mongodb.db], document_models=DOCUMENT_MODELS)
    try:
        yield
    finally:
        await client.drop_database(settings.mongodb.db)
        await client.close()


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


def drop_scratch_db(settings: Settings) -> None:
    """Drop the scratch database a benchmark's server wrote to."""

    async def drop() -> None:
        client = create_mongo_client(settings.mongodb)
        await client.drop_database(settings.mongodb.db)
        await client.close()

    asyncio.run(drop())


async def drop_scratch(settings: Settings, index_prefix: str | None) -> None:
    """Remove what a benchmark's servers wrote under its scratch names: the indices
    under `index_prefix` (None: it made none), the Redis keys under its key prefix, and
    its database."""
    redis = create_redis_client(settings.redis)
    mongo = create_mongo_client(settings.mongodb)
    try:
        if index_prefix is not None:
            es = create_es_client(settings.elasticsearch)
            try:
                await drop_prefix(es, index_prefix)
            finally:
                await es.close()
        keys = [k async for k in redis.scan_iter(match=f"{settings.redis.key_prefix}*")]
        if keys:
            await redis.delete(*keys)
        await mongo.drop_database(settings.mongodb.db)
    finally:
        await redis.aclose()
        await mongo.close()
