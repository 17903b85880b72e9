"""Following `play_events` by `_id`: ONE cursor per pass, checkpointed chunk by chunk.

The play sync and the roll-up both follow the append-only `play_events` past a saved
`_id` watermark, then `listener_erasures` past theirs. Re-querying `{_id > watermark}`
sorted, with a limit, for every batch is cheap on MongoDB proper (an index range)
but not on the stand-in: mongo-java-server answers each such query by scanning and
sorting the whole collection, so a backlog of N plays in batches of B cost N/B full
scans, O(N^2): the roll-up managed 811 plays/s against a 2,752 plays/s seed at 100k
plays (docs/pipelines.md, "Play counters").

So a pass opens one cursor over everything past the watermark (no limit, sorted on
`_id`, fetched `batch_size` at a time) and hands it to the follower chunk by chunk;
the checkpoint moves after each applied chunk, exactly as after each batch before.
One scan per pass, however long the backlog; memory is one chunk, not the backlog
(the cursor's result set lives in the server). The settle bound is taken when the
cursor opens, as it was per query: a pass never reads a play younger than that.

A crash mid-pass loses nothing: the next pass reopens the cursor at the last saved
chunk; the followers' writes are idempotent per play (the sync by play id, the
roll-up by each song's `counted_through` marker).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from bson import ObjectId

from pipelines import checkpoints, metrics
from pipelines.checkpoints import Checkpoint
from pipelines.sync import Row, Sync, after_watermark, drain, poll_until_stopped, run_with_backoff

ERASURES = "listener_erasures"


class PlayFollower(Sync):
    """A pass over the plays, then the erasures, past the checkpoint of `source`."""

    source: ClassVar[str] = ""
    # The play fields the follower reads (None: whole documents).
    fields: ClassVar[dict[str, int] | None] = None

    async def handle_plays(self, plays: list[Row]) -> None:
        raise NotImplementedError

    async def handle_erasures(self, erasures: list[Row]) -> None:
        raise NotImplementedError

    async def chunks(self, checkpoint: Checkpoint) -> AsyncGenerator[int]:
        """Apply everything past the watermarks, chunk by chunk, saving the checkpoint
        after each; yields each chunk's size. Plays first: a play read just before its
        listener was erased is applied before the erasure, never after it."""
        now = datetime.now(UTC)
        ids: dict[str, Any] = {}
        if self.options.settle_s:  # ObjectId time is whole seconds
            ids["$lt"] = ObjectId.from_datetime(now - timedelta(seconds=self.options.settle_s))
        if isinstance(checkpoint.changed_id, ObjectId):
            ids["$gt"] = checkpoint.changed_id
        size = self.options.batch_size
        cursor = (
            self.db.play_events.find({"_id": ids} if ids else {}, self.fields)
            .sort("_id", 1)
            .batch_size(size)
        )
        try:
            while plays := await cursor.to_list(size):
                with metrics.batch(self.source, len(plays)):
                    await self.handle_plays(plays)
                checkpoint.changed_id = plays[-1]["_id"]
                checkpoint.last_change_at = plays[-1]["_id"].generation_time
                await self._saved(checkpoint, len(plays))
                metrics.applied(self.source, len(plays), checkpoint.last_change_at)
                yield len(plays)
        finally:
            await cursor.close()
        horizon = now - timedelta(seconds=self.options.settle_s)
        while True:
            erasures = (
                await self.db[ERASURES]
                .find(
                    after_watermark(
                        "erased_at", checkpoint.erased_at, checkpoint.erased_id, horizon
                    )
                )
                .sort([("erased_at", 1), ("_id", 1)])
                .limit(size)
                .to_list(size)
            )
            if not erasures:
                return
            await self.handle_erasures(erasures)
            checkpoint.erased_at = erasures[-1]["erased_at"]
            checkpoint.erased_id = erasures[-1]["_id"]
            await self._saved(checkpoint, len(erasures))
            metrics.applied(self.source, len(erasures), None)
            yield len(erasures)

    async def _saved(self, checkpoint: Checkpoint, applied: int) -> None:
        checkpoint.applied += applied
        checkpoint.mode, checkpoint.last_error = "polling", None
        await checkpoints.save(self.db, checkpoint)

    async def poll_once(self, checkpoint: Checkpoint, stop: asyncio.Event | None = None) -> int:
        """One pass; how many plays and erasures it applied. With `stop`, the pass
        ends after the chunk during which it was set (a shutdown does not wait for a
        long backlog; the checkpoint is saved)."""
        applied = 0
        async with contextlib.aclosing(self.chunks(checkpoint)) as chunks:
            async for n in chunks:
                applied += n
                if stop is not None and stop.is_set():
                    break
        if not applied:
            metrics.caught_up(self.source)
        return applied

    async def catch_up(self) -> int:
        """Pass until nothing is left past the watermarks (tests, `sync` without --follow)."""
        return await drain(self.db, self.source, self.poll_once)

    async def follow(self, stop: asyncio.Event) -> None:
        metrics.mode_chosen(self.source, "polling")

        async def poll(checkpoint: Checkpoint) -> int:
            return await self.poll_once(checkpoint, stop)

        async def step() -> None:
            await poll_until_stopped(stop, self.options, poll, self.source, self.db)

        await run_with_backoff(stop, self.options, step, self.source, self.db)
