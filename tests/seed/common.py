"""Shared by the seed tests: small counts, and a database read back in `_id` order."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from beatstream.stores.clients import MongoDocument
from seed.generate import KINDS, Counts
from seed.load import collection_of

SMALL = Counts(artists=6, songs=40, listeners=25, plays=300)
SEEDED = tuple(collection_of(kind) for kind in KINDS)

Snapshot = dict[str, list[dict[str, Any]]]


async def snapshot(db: AsyncDatabase[MongoDocument]) -> Snapshot:
    """Every seeded collection, whole, in `_id` order: fine for SMALL counts only."""
    return {name: await db[name].find().sort("_id", 1).to_list(None) for name in SEEDED}
