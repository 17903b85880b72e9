"""`Annotated` dependency aliases for route signatures: `EsDep`, `RedisDep`, `MongoDbDep`...

All `async def`: FastAPI runs plain `def` dependencies in its thread pool, a hop that
costs more than these lookups themselves on every request.
"""

from __future__ import annotations

from typing import Annotated

from elasticsearch import AsyncElasticsearch
from fastapi import Depends, Request
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores import Stores
from beatstream.stores.capabilities import ServerCapabilities
from beatstream.stores.clients import MongoDocument, RedisClient


async def get_stores(request: Request) -> Stores:
    stores: Stores = request.state.stores
    return stores


StoresDep = Annotated[Stores, Depends(get_stores)]


async def get_settings_from_state(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


async def get_capabilities(request: Request) -> ServerCapabilities:
    capabilities: ServerCapabilities = request.state.capabilities
    return capabilities


async def get_es(stores: StoresDep) -> AsyncElasticsearch:
    return stores.es


async def get_redis(stores: StoresDep) -> RedisClient:
    return stores.redis


async def get_mongo_db(stores: StoresDep) -> AsyncDatabase[MongoDocument]:
    return stores.mongo_db


CapabilitiesDep = Annotated[ServerCapabilities, Depends(get_capabilities)]
SettingsDep = Annotated[Settings, Depends(get_settings_from_state)]
EsDep = Annotated[AsyncElasticsearch, Depends(get_es)]
RedisDep = Annotated[RedisClient, Depends(get_redis)]
MongoDbDep = Annotated[AsyncDatabase[MongoDocument], Depends(get_mongo_db)]
