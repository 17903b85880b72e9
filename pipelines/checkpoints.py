"""Where a sync left off, persisted in MongoDB after each applied batch.

One document per synced collection. It is written only after every item of a batch
was applied (or dead-lettered), so a crash at any point replays at most the last
batch: at-least-once delivery, made harmless by versioned, idempotent writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from pipelines import metrics

# Read for operators by `pipelines.state` (GET /v1/admin/sync/status).
COLLECTION = "sync_checkpoints"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Checkpoint:
    source: str
    mode: str = "polling"
    resume_token: dict[str, Any] | None = None
    changed_at: datetime = EPOCH
    changed_id: Any = None
    # Songs: the tombstones' watermark (`deleted_at`, `_id`).
    deleted_at: datetime = EPOCH
    deleted_id: Any = None
    # Plays: the listener erasures' watermark (`erased_at`, `_id`).
    erased_at: datetime = EPOCH
    erased_id: Any = None
    applied: int = 0
    last_error: str | None = None
    last_change_at: datetime | None = None
    updated_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def load(db: AsyncDatabase[dict[str, Any]], source: str) -> Checkpoint:
    raw = await db[COLLECTION].find_one({"_id": source})
    if raw is None:
        return Checkpoint(source=source)
    raw.pop("_id")
    return Checkpoint(source=source, **{k: v for k, v in raw.items() if k != "source"})


async def save(db: AsyncDatabase[dict[str, Any]], checkpoint: Checkpoint) -> None:
    checkpoint.updated_at = datetime.now(UTC)
    fields = {k: v for k, v in checkpoint.__dict__.items() if k != "source"}
    await db[COLLECTION].replace_one({"_id": checkpoint.source}, fields, upsert=True)
    metrics.checkpoint_saved(checkpoint.source)


async def record_error(db: AsyncDatabase[dict[str, Any]], source: str, error: str) -> None:
    await db[COLLECTION].update_one(
        {"_id": source}, {"$set": {"last_error": error[:1000]}}, upsert=True
    )
