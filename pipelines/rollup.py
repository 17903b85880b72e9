"""The play roll-up: every play counted exactly once into its song's counters.

A song document carries `play_counts` (`{country: plays}`) and `counted_through`, the
id of the newest of its plays already counted. The roll-up follows `play_events` by
`_id` past its own checkpoint (`play_counts`), within the same settle window as the
play sync, one cursor per pass counted chunk by chunk (`pipelines.play_stream`), so
each song's counted plays are always a prefix of its plays in `_id` order, and
`counted_through` says exactly which.

**Exactly once without transactions.** The stand-in has no multi-document
transactions (docs/mongodb-stand-in.md), so the counters and the checkpoint cannot
move together. They do not need to: each song's update is ONE single-document write
that adds only the plays past its `counted_through` and moves the marker, guarded by
the marker value it read (`{_id, counted_through: read}`: a compare-and-set). A crash
anywhere (mid-bulk, or between the counters and the checkpoint) replays the chunk
from the old checkpoint; songs already updated find nothing past their marker and
are skipped, whatever the new batch boundaries. A guard that misses (another
roll-up or a repair moved the marker) re-reads and retries.

**Elasticsearch.** The update bumps the song's `version` and `updated_at`, so the
song sync sends the new counters with the usual external version (and bumps the
`songs` cache namespace): `song_document` ranks on seeded/edited views plus counted
plays. One write path, one drift check.

**The API's kept answers.** After each chunk's writes the roll-up *announces* the
songs it wrote (`pipelines.invalidation.announce`), not a `CATALOG` bump: the API
processes drop the kept answers showing those songs (the song, playlists holding it)
and keep every other (`beatstream.cache.changes`).

**Erasures.** Plays of an erased listener are never counted (each batch is checked
against `listener_erasures`, as the play sync does). A listener erased after their
plays were counted: the roll-up sees the erasure past its own watermark and
recomputes every song's counters from the plays that remain (`pipelines.counters`),
so live counters always equal a recount of `play_events`. See docs/analytics.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any, ClassVar

from bson import ObjectId
from pymongo import UpdateOne

from beatstream.common.countries import COUNTRY_CODES
from pipelines import counters, dead_letters
from pipelines.invalidation import announce
from pipelines.play_stream import ERASURES, PlayFollower
from pipelines.sync import Row

SOURCE = counters.SOURCE
ATTEMPTS = 5


class RollupRaceError(RuntimeError):
    """The marker guard kept missing: something else keeps moving the counters."""


def song_updates(
    plays: list[Row], markers: dict[Any, ObjectId | None], now: datetime
) -> dict[Any, UpdateOne]:
    """One guarded update per song (by song id): the plays past its marker, counted by
    country."""
    by_song: dict[Any, list[Row]] = defaultdict(list)
    for play in plays:
        by_song[play["song_id"]].append(play)
    updates = {}
    for song_id, played in by_song.items():
        if song_id not in markers:  # no such song (deleted): nothing to count into
            continue
        marker = markers[song_id]
        fresh = [p for p in played if marker is None or p["_id"] > marker]
        if not fresh:
            continue
        increments: dict[str, int] = {
            f"{counters.COUNTS}.{country}": n
            for country, n in Counter(p["country"] for p in fresh).items()
        }
        updates[song_id] = UpdateOne(
            {"_id": song_id, counters.MARK: marker},
            {
                "$inc": {**increments, "version": 1},
                "$set": {counters.MARK: max(p["_id"] for p in fresh), "updated_at": now},
            },
        )
    return updates


class PlayRollup(PlayFollower):
    """Counts plays into songs; runs beside the song and play syncs in `beatstream sync`.
    One cursor per pass over the plays, counted and checkpointed chunk by chunk
    (`pipelines.play_stream`)."""

    source = SOURCE
    fields: ClassVar[dict[str, int] | None] = {"song_id": 1, "country": 1, "listener_id": 1}
    guarded = False  # the guard's index ensured by this process (`counters`)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The marker this process last wrote per song: the roll-up is normally the only
        # writer of markers, so a chunk need not re-read them. A stale entry (a repair,
        # another roll-up, a reloaded song) only makes its guard miss, and a miss
        # re-reads the chunk's markers from MongoDB. At most one entry per song.
        self.known: dict[Any, ObjectId | None] = {}

    async def _markers(self, song_ids: list[Any]) -> dict[Any, ObjectId | None]:
        rows = self.db.songs.find({"_id": {"$in": song_ids}}, {counters.MARK: 1})
        return {row["_id"]: row.get(counters.MARK) async for row in rows}

    async def write(self, updates: list[UpdateOne]) -> int:
        """Apply the updates; how many matched their guard. (A test seam: a crash
        injected here leaves the counters partly written, as a SIGKILL would.)"""
        if not updates:
            return 0
        if not self.guarded:
            await counters.ensure_guard_index(self.db)
            self.guarded = True
        return (await self.db.songs.bulk_write(updates, ordered=False)).matched_count

    async def count(self, plays: list[Row]) -> int:
        """Count a batch; the number of songs whose counters moved."""
        listener_ids = list({play.get("listener_id") for play in plays})
        erased = {
            e["listener_id"]
            async for e in self.db[ERASURES].find(
                {"listener_id": {"$in": listener_ids}}, {"listener_id": 1}
            )
        }
        valid, failures = [], []
        for play in plays:
            if play.get("listener_id") in erased:
                continue
            if play.get("country") not in COUNTRY_CODES or play.get("song_id") is None:
                failures.append((str(play["_id"]), f"roll-up: bad play {play!r}"))
                continue
            valid.append(play)
        await dead_letters.record(self.db, "rollup", SOURCE, failures)
        songs = list({p["song_id"] for p in valid})
        markers = {song: self.known[song] for song in songs if song in self.known}
        if unknown := [song for song in songs if song not in markers]:
            markers |= await self._markers(unknown)
            self.known |= markers
        moved = 0
        for _ in range(ATTEMPTS):
            updates = song_updates(valid, markers, datetime.now(UTC))
            if not updates:
                return moved
            matched = await self.write(list(updates.values()))
            if matched:  # their versions moved: the API drops those songs' kept answers
                await announce(self.cache, list(updates))
            moved += matched
            if matched == len(updates):
                # Each song's marker is now its newest play of the chunk, if newer.
                last = {p["song_id"]: p["_id"] for p in valid}  # ascending `_id`
                self.known |= {
                    song: last[song] if mark is None or last[song] > mark else mark
                    for song, mark in markers.items()
                }
                return moved
            markers = await self._markers(songs)  # a guard missed: read them all again
        raise RollupRaceError("counter markers kept moving under the roll-up")

    async def handle_plays(self, plays: list[Row]) -> None:
        await self.count(plays)

    async def handle_erasures(self, erasures: list[Row]) -> None:
        # Which songs the erased plays were counted into is gone with the plays:
        # recount every song from what remains (erasures are rare).
        await counters.repair(self.db, await counters.check(self.db), self.cache)
