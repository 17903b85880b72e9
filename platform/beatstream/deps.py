"""`Annotated` dependency aliases for route signatures: `EsDep`, `RedisDep`, `MongoDbDep`...

The app-state getters behind them live in `beatstream.state`. All `async def`: FastAPI
runs plain `def` dependencies in its thread pool, a hop that costs more than these
lookups themselves on every request.
"""

from __future__ import annotations

from typing import Annotated

from elasticsearch import AsyncElasticsearch
from fastapi import Depends
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.state import get_capabilities, get_settings_from_state, get_stores
from beatstream.stores import Stores
from beatstream.stores.capabilities import ServerCapabilities
from beatstream.stores.clients import MongoDocument, RedisClient

StoresDep = Annotated[Stores, Depends(get_stores)]


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
