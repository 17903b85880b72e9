"""What the sync pipelines have done, read from the state they persist in MongoDB.

The pipelines own these collections (`checkpoints.py` and `dead_letters.py` write
them), so their shape is known here and nowhere else. The API's operator routes
(`beatstream.admin`) read lag and failures through this module, so an operator can
see them without shell access to the worker; the pipelines never import the API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from pipelines import checkpoints, dead_letters


async def sync_status(db: AsyncDatabase[dict[str, Any]], source: str) -> dict[str, Any]:
    """Lag, checkpoint age, counts and the last error of the sync of `source`."""
    checkpoint = await db[checkpoints.COLLECTION].find_one({"_id": source}) or {}
    now = datetime.now(UTC)
    saved_at = checkpoint.get("updated_at")
    last_change = checkpoint.get("last_change_at")
    pending_since = await _oldest_pending(db, source, checkpoint)
    return {
        "source": source,
        "mode": checkpoint.get("mode"),
        # Age of the oldest change not yet applied; 0 when caught up.
        "lag_s": round((now - pending_since).total_seconds(), 3) if pending_since else 0.0,
        "checkpoint_age_s": round((now - saved_at).total_seconds(), 3) if saved_at else None,
        "last_change_at": last_change,
        "applied": int(checkpoint.get("applied", 0)),
        "dead_letters": await db[dead_letters.COLLECTION].count_documents({"source": source}),
        "last_error": checkpoint.get("last_error"),
    }


async def _oldest_pending(
    db: AsyncDatabase[dict[str, Any]], source: str, checkpoint: dict[str, Any]
) -> datetime | None:
    """When the oldest change not applied yet was made; None when caught up."""
    if source == "songs":
        since = checkpoint.get("changed_at", checkpoints.EPOCH)
        row = await db.songs.find_one(
            {"updated_at": {"$gt": since}}, {"updated_at": 1}, sort=[("updated_at", 1)]
        )
        return row["updated_at"] if row else None
    last_id = checkpoint.get("changed_id")
    query = {"_id": {"$gt": last_id}} if isinstance(last_id, ObjectId) else {}
    play = await db.play_events.find_one(query, {"_id": 1}, sort=[("_id", 1)])
    return play["_id"].generation_time if play else None
