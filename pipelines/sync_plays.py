"""Incremental sync of play events, MongoDB -> the monthly play indices.

Play events are append-only, so the sync follows their `_id`: past a saved
watermark, and no younger than `settle_s` (ids are minted by the writers, which may
commit slightly out of order; a play younger than the settle window waits a round).
Each play is indexed under its own id into the month of its `played_at`, so a replay
rewrites the same document: at-least-once delivery without duplicates. The song's
artist and genre are copied in (one `$in` query per batch) for the dashboards.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from beatstream.search.indices import plays_index
from beatstream.search.transform import play_document
from pipelines import checkpoints, dead_letters
from pipelines.bulk import BulkResult, item_failures
from pipelines.checkpoints import Checkpoint
from pipelines.sync import Row, Sync, poll_until_stopped, run_with_backoff

SOURCE = "plays"
CACHE_NAMESPACE = "plays"


class PlaySync(Sync):
    async def apply(self, plays: list[Row]) -> BulkResult:
        song_ids = list({play["song_id"] for play in plays})
        songs = {
            s["_id"]: s
            async for s in self.db.songs.find({"_id": {"$in": song_ids}}, {"artist": 1, "genre": 1})
        }
        operations: list[dict[str, Any]] = []
        for play in plays:
            played_at: datetime = play["played_at"]
            index = plays_index(self.config.index_prefix, played_at.year, played_at.month)
            operations += [
                {"index": {"_index": index, "_id": str(play["_id"])}},
                play_document(play, songs.get(play["song_id"])),
            ]
        response = await self.es.bulk(operations=operations)
        result = item_failures(response.body)
        await dead_letters.record(self.db, "sync", SOURCE, result.failed)
        if self.cache is not None:
            await self.cache.invalidate(CACHE_NAMESPACE)
        return result

    async def poll_once(self, checkpoint: Checkpoint) -> int:
        ids: dict[str, Any] = {}
        if self.options.settle_s:  # ObjectId time is whole seconds
            settled = datetime.now(UTC) - timedelta(seconds=self.options.settle_s)
            ids["$lt"] = ObjectId.from_datetime(settled)
        if isinstance(checkpoint.changed_id, ObjectId):
            ids["$gt"] = checkpoint.changed_id
        limit = self.options.batch_size
        query = {"_id": ids} if ids else {}
        plays = await self.db.play_events.find(query).sort("_id", 1).limit(limit).to_list(limit)
        if not plays:
            return 0
        await self.apply(plays)
        checkpoint.changed_id = plays[-1]["_id"]
        checkpoint.last_change_at = plays[-1]["_id"].generation_time
        checkpoint.applied += len(plays)
        checkpoint.mode, checkpoint.last_error = "polling", None
        await checkpoints.save(self.db, checkpoint)
        return len(plays)

    async def catch_up(self) -> int:
        checkpoint = await checkpoints.load(self.db, SOURCE)
        total = 0
        while applied := await self.poll_once(checkpoint):
            total += applied
        return total

    async def follow(self, stop: asyncio.Event) -> None:
        async def step() -> None:
            await poll_until_stopped(stop, self.options, self.poll_once, SOURCE, self.db)

        await run_with_backoff(stop, self.options, step, SOURCE, self.db)
