"""Documents a pipeline could not apply, kept in MongoDB with the reason.

The pipeline keeps going; operators read, fix and replay these. One collection for
every pipeline, keyed by (pipeline, source collection, document id), so a document
that fails again updates its entry instead of piling up duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from pipelines import metrics

# Counted for operators by `pipelines.state` (GET /v1/admin/sync/status).
COLLECTION = "sync_dead_letters"


async def record(
    db: AsyncDatabase[dict[str, Any]],
    pipeline: str,
    source: str,
    failures: Iterable[tuple[str, str]],
) -> int:
    now = datetime.now(UTC)
    writes = [
        UpdateOne(
            {"pipeline": pipeline, "source": source, "doc_id": doc_id},
            {"$set": {"reason": reason[:2000], "at": now}, "$inc": {"attempts": 1}},
            upsert=True,
        )
        for doc_id, reason in failures
    ]
    if writes:
        await db[COLLECTION].bulk_write(writes, ordered=False)
    metrics.dead_lettered(source, pipeline, len(writes))
    return len(writes)


async def count(db: AsyncDatabase[dict[str, Any]], pipeline: str | None = None) -> int:
    query = {"pipeline": pipeline} if pipeline else {}
    return await db[COLLECTION].count_documents(query)
