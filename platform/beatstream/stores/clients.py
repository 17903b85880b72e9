"""Create and close the MongoDB, Elasticsearch and Redis clients, once per process.

Every client accepts cluster addresses: a MongoDB connection string with several
hosts or `mongodb+srv://`, several Elasticsearch node URLs, a Redis Cluster seed.
Clients connect lazily; `beatstream.stores.probe` is what proves them reachable.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from beatstream.settings import ElasticsearchSettings, MongoSettings, RedisSettings, Settings

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


def create_mongo_client(settings: MongoSettings) -> AsyncMongoClient[MongoDocument]:
    return AsyncMongoClient(
        settings.url,
        appname="beatstream",
        tz_aware=True,
        uuidRepresentation="standard",
        connectTimeoutMS=settings.connect_timeout_ms,
        serverSelectionTimeoutMS=settings.connect_timeout_ms,
    )


def create_es_client(settings: ElasticsearchSettings) -> AsyncElasticsearch:
    return AsyncElasticsearch(
        hosts=settings.hosts,
        request_timeout=settings.request_timeout_s,
        retry_on_timeout=True,
        max_retries=2,
    )


def create_redis_client(settings: RedisSettings) -> RedisClient:
    common: dict[str, Any] = {
        "socket_timeout": settings.socket_timeout_s,
        "socket_connect_timeout": settings.socket_timeout_s,
        "health_check_interval": 30,
    }
    if settings.cluster:
        return RedisCluster.from_url(settings.url, **common)
    return Redis.from_url(settings.url, **common)


def open_stores(settings: Settings) -> Stores:
    return Stores(
        settings=settings,
        mongo=create_mongo_client(settings.mongodb),
        es=create_es_client(settings.elasticsearch),
        redis=create_redis_client(settings.redis),
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
