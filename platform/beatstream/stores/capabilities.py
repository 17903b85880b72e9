"""Which MongoDB features the connected server really has, found by trying each one.

Beatstream runs against real MongoDB in production but also against MongoDB-wire
servers that implement less (the local stand-in). The features are detected once per
process (the API's lifespan, the sync command) into a `ServerCapabilities`, and every
code path with a fallback reads `capabilities.<name>` from it; none decides by
catching a server error per request, and none looks at the server's name or version.
So `grep -rnF "capabilities." platform pipelines` lists every fallback there is.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields

from pymongo import DESCENDING, TEXT, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.stores.clients import MongoDocument

logger = logging.getLogger(__name__)

CapabilityCheck = Callable[
    [AsyncMongoClient[MongoDocument], AsyncDatabase[MongoDocument]], Awaitable[bool]
]


@dataclass(frozen=True, slots=True)
class Capability:
    name: str
    available: bool
    detail: str = ""


async def _transactions(
    client: AsyncMongoClient[MongoDocument], db: AsyncDatabase[MongoDocument]
) -> bool:
    await db.create_collection("tx")
    async with client.start_session() as session, await session.start_transaction():
        await db.tx.insert_one({"n": 1}, session=session)
    return await db.tx.count_documents({}) == 1


async def _change_streams(
    _client: AsyncMongoClient[MongoDocument], db: AsyncDatabase[MongoDocument]
) -> bool:
    async with await db.cs.watch(max_await_time_ms=1000) as stream:
        await db.cs.insert_one({"n": 1})
        change = await asyncio.wait_for(stream.next(), 10)
        return change.get("operationType") == "insert" and stream.resume_token is not None


async def _views(
    _client: AsyncMongoClient[MongoDocument], db: AsyncDatabase[MongoDocument]
) -> bool:
    await db.base.insert_many([{"keep": True, "secret": 1}, {"keep": False, "secret": 2}])
    await db.create_collection(
        "masked", viewOn="base", pipeline=[{"$match": {"keep": True}}, {"$unset": "secret"}]
    )
    rows = await db.masked.find({}, {"_id": 0}).to_list(None)
    return rows == [{"keep": True}]


async def _text_search(
    _client: AsyncMongoClient[MongoDocument], db: AsyncDatabase[MongoDocument]
) -> bool:
    await db.txt.create_index([("artist", TEXT)])
    await db.txt.insert_many([{"artist": "Bruno Mars"}, {"artist": "Adele"}])
    rows = await db.txt.find({"$text": {"$search": "mars"}}).to_list(None)
    return [r["artist"] for r in rows] == ["Bruno Mars"]


async def _explain(
    _client: AsyncMongoClient[MongoDocument], db: AsyncDatabase[MongoDocument]
) -> bool:
    """The `explain` command answers with a plan (whatever the plan's stages)."""
    await db.ex.insert_one({"year": 2014})
    plan = await db.ex.find({"year": 2014}).explain()
    return "queryPlanner" in plan


async def _explain_index(
    _client: AsyncMongoClient[MongoDocument], db: AsyncDatabase[MongoDocument]
) -> bool:
    await db.ex.create_index([("year", DESCENDING)], name="year_desc")
    await db.ex.insert_one({"year": 2014})
    plan = await db.ex.find({"year": 2014}).explain()
    return "IXSCAN" in str(plan) and "year_desc" in str(plan)


async def _lookup_pipeline(
    _client: AsyncMongoClient[MongoDocument], db: AsyncDatabase[MongoDocument]
) -> bool:
    await db.a.insert_one({"_id": 1, "refs": [2]})
    await db.b.insert_one({"_id": 2})
    cursor = await db.a.aggregate(
        [
            {
                "$lookup": {
                    "from": "b",
                    "let": {"ids": "$refs"},
                    "pipeline": [{"$match": {"$expr": {"$in": ["$_id", "$$ids"]}}}],
                    "as": "resolved",
                }
            }
        ]
    )
    rows = await cursor.to_list(None)
    return len(rows) == 1 and rows[0]["resolved"] == [{"_id": 2}]


async def _aggregate_batches(
    _client: AsyncMongoClient[MongoDocument], db: AsyncDatabase[MongoDocument]
) -> bool:
    """An aggregation cursor that honours `batchSize`, so a big result can stream."""
    await db.ab.insert_many([{"n": n} for n in range(5)])
    reply = await db.command({"aggregate": "ab", "pipeline": [], "cursor": {"batchSize": 2}})
    cursor = reply["cursor"]
    if cursor["id"]:
        await db.command({"killCursors": "ab", "cursors": [cursor["id"]]})
    return len(cursor["firstBatch"]) == 2 and cursor["id"] != 0


CHECKS: dict[str, CapabilityCheck] = {
    "transactions": _transactions,
    "change_streams": _change_streams,
    "views": _views,
    "text_search": _text_search,
    "explain": _explain,
    "explain_index": _explain_index,
    "lookup_pipeline": _lookup_pipeline,
    "aggregate_batches": _aggregate_batches,
}


SCRATCH_PREFIX = "capcheck"


async def detect_capability(
    client: AsyncMongoClient[MongoDocument], name: str, prefix: str = SCRATCH_PREFIX
) -> Capability:
    """Try one feature in its own scratch database (dropped afterwards)."""
    db = client[f"{prefix}_{name}_{uuid.uuid4().hex[:8]}"]
    try:
        ok = await asyncio.wait_for(CHECKS[name](client, db), timeout=15)
        return Capability(name, ok, "" if ok else "answered, but with a wrong result")
    except Exception as exc:  # noqa: BLE001 - any failure means the feature is missing
        return Capability(name, False, f"{type(exc).__name__}: {str(exc)[:200]}")
    finally:
        await client.drop_database(db.name)


async def detect_capabilities(
    client: AsyncMongoClient[MongoDocument], prefix: str = SCRATCH_PREFIX
) -> dict[str, Capability]:
    """Try every feature, each in its own scratch database (named `<prefix>_<feature>_…`,
    so a caller can tell its own from another process's), all at once."""
    found = await asyncio.gather(*(detect_capability(client, name, prefix) for name in CHECKS))
    return {capability.name: capability for capability in found}


@dataclass(frozen=True, slots=True)
class ServerCapabilities:
    """What the connected server can do: one flag per check in `CHECKS`, same names.

    Detected once per process (a server does not gain features while we run) and kept
    on the app state; code paths read `capabilities.<name>`. Defaults are the real
    MongoDB's (every feature), for callers that know they face one.
    """

    transactions: bool = True
    change_streams: bool = True
    views: bool = True
    text_search: bool = True
    explain: bool = True
    explain_index: bool = True
    lookup_pipeline: bool = True
    aggregate_batches: bool = True

    @classmethod
    def of(cls, found: Mapping[str, Capability]) -> ServerCapabilities:
        return cls(**{f.name: found[f.name].available for f in fields(cls)})

    @classmethod
    async def detect(cls, client: AsyncMongoClient[MongoDocument]) -> ServerCapabilities:
        """`detect_capabilities`, with each missing feature logged once, with its reason."""
        found = await detect_capabilities(client)
        for capability in found.values():
            if not capability.available:
                logger.warning(
                    "MongoDB server lacks %s: its fallback is used",
                    capability.name,
                    extra={"capability": capability.name, "detail": capability.detail},
                )
        return cls.of(found)
