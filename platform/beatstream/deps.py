"""`Annotated` dependency aliases for route signatures: `EsDep`, `RedisDep`, `MongoDbDep`..."""

from __future__ import annotations

from typing import Annotated

from elasticsearch import AsyncElasticsearch
from fastapi import Depends, Request
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores import Stores
from beatstream.stores.clients import MongoDocument, RedisClient


def get_stores(request: Request) -> Stores:
    stores: Stores = request.state.stores
    return stores


StoresDep = Annotated[Stores, Depends(get_stores)]


def get_settings_from_state(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


def get_es(stores: StoresDep) -> AsyncElasticsearch:
    return stores.es


def get_redis(stores: StoresDep) -> RedisClient:
    return stores.redis


def get_mongo_db(stores: StoresDep) -> AsyncDatabase[MongoDocument]:
    return stores.mongo_db


SettingsDep = Annotated[Settings, Depends(get_settings_from_state)]
EsDep = Annotated[AsyncElasticsearch, Depends(get_es)]
RedisDep = Annotated[RedisClient, Depends(get_redis)]
MongoDbDep = Annotated[AsyncDatabase[MongoDocument], Depends(get_mongo_db)]
