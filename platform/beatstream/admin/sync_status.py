"""What the sync pipelines have done, read from the state they persist in MongoDB.

The pipelines (`pipelines/`) write these collections; the API only reads them, so an
operator can see lag and failures without shell access to the worker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

CHECKPOINTS = "sync_checkpoints"
DEAD_LETTERS = "sync_dead_letters"


async def sync_status(db: AsyncDatabase[dict[str, Any]], source: str) -> dict[str, Any]:
    checkpoint = await db[CHECKPOINTS].find_one({"_id": source}) or {}
    now = datetime.now(UTC)
    saved_at = checkpoint.get("updated_at")
    last_change = checkpoint.get("last_change_at")
    pending = (
        await db.songs.find_one(
            {"updated_at": {"$gt": checkpoint.get("changed_at", datetime(1970, 1, 1, tzinfo=UTC))}},
            {"updated_at": 1},
            sort=[("updated_at", 1)],
        )
        if source == "songs"
        else None
    )
    return {
        "source": source,
        "mode": checkpoint.get("mode"),
        # Age of the oldest change not yet applied; 0 when caught up.
        "lag_s": round((now - pending["updated_at"]).total_seconds(), 3) if pending else 0.0,
        "checkpoint_age_s": round((now - saved_at).total_seconds(), 3) if saved_at else None,
        "last_change_at": last_change,
        "applied": int(checkpoint.get("applied", 0)),
        "dead_letters": await db[DEAD_LETTERS].count_documents({"source": source}),
        "last_error": checkpoint.get("last_error"),
    }
