from __future__ import annotations

import asyncio
import uuid

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.stores.capabilities import CHECKS, Capability, detect_capabilities
from beatstream.stores.clients import MongoDocument


async def test_every_capability_is_reported_with_a_reason_when_missing(
    mongo_capabilities: dict[str, Capability],
) -> None:
    assert set(mongo_capabilities) == set(CHECKS)
    for capability in mongo_capabilities.values():
        assert capability.available or capability.detail


async def test_detection_leaves_no_scratch_database_behind(
    mongo_client: AsyncMongoClient[MongoDocument],
) -> None:
    # Its own prefix: other processes on a shared server detect at the same time, and
    # one killed mid-way (a kill -9 test) leaves its scratch databases behind.
    prefix = f"capcheck{uuid.uuid4().hex[:8]}"
    await detect_capabilities(mongo_client, prefix)
    names = await mongo_client.list_database_names()
    assert not [n for n in names if n.startswith(prefix)]


@pytest.mark.requires_mongo("transactions")
async def test_transaction_commits_both_writes_or_neither(
    mongo_client: AsyncMongoClient[MongoDocument], mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    await mongo_db.create_collection("accounts")
    async with mongo_client.start_session() as session:
        aborted = await session.start_transaction()
        async with aborted:
            await mongo_db.accounts.insert_one({"n": 1}, session=session)
            await session.abort_transaction()
        async with await session.start_transaction():
            await mongo_db.accounts.insert_one({"n": 2}, session=session)
    assert [d["n"] async for d in mongo_db.accounts.find({}, {"_id": 0})] == [2]


@pytest.mark.requires_mongo("change_streams")
async def test_change_stream_delivers_an_update_after_its_resume_token(
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    songs = mongo_db.songs
    await songs.insert_one({"_id": 1, "title": "Hello"})
    async with await songs.watch(full_document="updateLookup") as stream:
        await songs.update_one({"_id": 1}, {"$set": {"title": "Hello (live)"}})
        change = await asyncio.wait_for(stream.next(), 10)
    assert change["operationType"] == "update"
    assert change["fullDocument"]["title"] == "Hello (live)"
