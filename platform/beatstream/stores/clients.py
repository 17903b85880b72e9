"""Create and close the MongoDB, Elasticsearch and Redis clients, once per process.

Every client accepts cluster addresses: a MongoDB connection string with several
hosts or `mongodb+srv://`, several Elasticsearch node URLs, a Redis Cluster seed.
Clients connect lazily; `beatstream.stores.probe` is what proves them reachable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from elasticsearch import AsyncElasticsearch
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.monitoring import CommandListener
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster

from beatstream.errors import StoreUnavailableError
from beatstream.metrics.stores import (
    InstrumentedElasticsearch,
    InstrumentedRedis,
    InstrumentedRedisCluster,
    MongoCommandMetrics,
)
from beatstream.redact import redact_text
from beatstream.settings import (
    ElasticsearchSettings,
    MongoSettings,
    RedisSettings,
    Settings,
    StoreSection,
)

T = TypeVar("T")

MongoDocument = dict[str, Any]
RedisClient = Redis | RedisCluster


@dataclass(frozen=True, slots=True)
class Stores:
    """The open clients plus the settings they were made from."""

    settings: Settings
    mongo: AsyncMongoClient[MongoDocument]
    es: AsyncElasticsearch
    redis: RedisClient

    @property
    def mongo_db(self) -> AsyncDatabase[MongoDocument]:
        return self.mongo[self.settings.mongodb.db]


def create_mongo_client(
    settings: MongoSettings, event_listeners: Sequence[CommandListener] = ()
) -> AsyncMongoClient[MongoDocument]:
    """`event_listeners`: PyMongo monitoring hooks (metrics, tracing, command counts)."""
    return AsyncMongoClient(
        settings.url,
        event_listeners=list(event_listeners),
        appname="beatstream",
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        connectTimeoutMS=settings.connect_timeout_ms,
        socketTimeoutMS=settings.socket_timeout_ms,
    )


def create_es_client(
    settings: ElasticsearchSettings, *, instrumented: bool = False
) -> AsyncElasticsearch:
    """`instrumented`: time every call for the metrics (beatstream.metrics.stores)."""
    client_class = InstrumentedElasticsearch if instrumented else AsyncElasticsearch
    return client_class(
        hosts=settings.hosts,
        request_timeout=settings.request_timeout_s,
        retry_on_timeout=True,
        max_retries=2,
    )


def create_redis_client(settings: RedisSettings, *, instrumented: bool = False) -> RedisClient:
    """`instrumented`: time every command for the metrics (beatstream.metrics.stores)."""
    common: dict[str, Any] = {
        "socket_timeout": settings.socket_timeout_s,
        "socket_connect_timeout": settings.socket_timeout_s,
        "health_check_interval": 30,
    }
    if settings.cluster:
        cluster_class = InstrumentedRedisCluster if instrumented else RedisCluster
        return cluster_class.from_url(
            settings.url, max_connections=settings.max_connections, **common
        )
    # A blocking pool: under a burst, callers wait briefly for a connection instead of
    # failing with "too many connections" (which the cache would have to treat as down).
    pool = BlockingConnectionPool.from_url(
        settings.url,
        max_connections=settings.max_connections,
        timeout=settings.socket_timeout_s,
        **common,
    )
    return (InstrumentedRedis if instrumented else Redis)(connection_pool=pool)


def _create(name: str, section: StoreSection, factory: Callable[[Any], T]) -> T:
    """Clients connect lazily, so construction fails only on a URL they cannot parse."""
    try:
        return factory(section)
    except Exception as exc:  # noqa: BLE001 - each client library has its own error types
        raise StoreUnavailableError(
            name, section.safe_url, f"invalid URL: {redact_text(str(exc))}"
        ) from None


def open_stores(settings: Settings, mongo_listeners: Sequence[CommandListener] = ()) -> Stores:
    """With metrics on (`METRICS_ENABLED`), every store call is timed."""
    timed = settings.metrics.enabled
    listeners = [*mongo_listeners, MongoCommandMetrics()] if timed else list(mongo_listeners)
    return Stores(
        settings=settings,
        mongo=_create("mongodb", settings.mongodb, lambda s: create_mongo_client(s, listeners)),
        es=_create(
            "elasticsearch", settings.elasticsearch, partial(create_es_client, instrumented=timed)
        ),
        redis=_create("redis", settings.redis, partial(create_redis_client, instrumented=timed)),
    )


async def close_stores(stores: Stores) -> None:
    """Close all three even if one close fails; the first failure is re-raised."""
    results = await asyncio.gather(
        stores.mongo.close(),
        stores.es.close(),
        stores.redis.aclose(),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
