"""Which songs changed, per process: a counter update drops only the answers that show it.

The play roll-up moves a song's `version` and `updated_at` (so its answer and ETag
change) several times a second under steady listening. Bumping `CATALOG` for that made
every process drop every kept song and playlist. Instead the roll-up and the counter
repair *announce* the songs they wrote (`ResponseCache.announce`): one Redis script
bumps the song-changes generation and logs `generation -> song ids`, atomically (both
keys in one slot, so a Redis Cluster runs it on one node).

A process reads that generation in the same `MGET` as the namespaces' (so a read still
costs one shared round trip), and when it moved, reads the log entries it has not seen
(one `ZRANGEBYSCORE`, shared as well) before any waiting read is answered. It records,
per song, the last generation that changed it; a kept answer read at generation `g`
is current unless one of the songs it shows changed after `g`. That is exact for the
same reason as the namespace tags (docs/catalog.md, "Hot reads"): the announcement
follows the MongoDB write, the snapshot follows the read's arrival, and an answer is
tagged with the snapshot taken before its MongoDB read.

When the log cannot say exactly what changed (this process is more than
`CHANGES_KEPT` generations behind, an entry says "*" or is missing, or the generation
went backwards after a Redis flush), every kept answer is dropped at once: the
`epoch` moves, and answers are kept with the epoch they were read in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from beatstream.cache.store import CHANGES_KEPT, EVERY_SONG


class SongChanges:
    """This process's view of the song-changes log: the last generation changing each
    song (at most one entry per song of the catalogue), up to `through`."""

    def __init__(self) -> None:
        self.through: int | None = None
        self.epoch = 0
        self._last: dict[str, int] = {}

    def wants(self, current: int) -> int | None:
        """The generation after which log entries must be read to reach `current`, or
        None when there is nothing to read (current, first look, or too far behind)."""
        if self.through is None or not self.through < current <= self.through + CHANGES_KEPT:
            return None
        return self.through

    def advance(self, current: int, entries: Iterable[bytes] | None) -> None:
        """Move to `current`, recording the `entries` of the log read since `through`
        (None: not read). Anything not exactly accounted for forgets every answer."""
        if self.through is None or current == self.through:
            self.through = current
            return
        changed = _parse(entries) if current > self.through else None
        if changed is None or set(changed) != set(range(self.through + 1, current + 1)):
            self.epoch += 1
            self._last.clear()
        else:
            for generation in sorted(changed):
                self._last.update(dict.fromkeys(changed[generation], generation))
        self.through = current

    def fresh(self, read_at: int, epoch: int, songs: Sequence[str]) -> bool:
        """Whether an answer read at generation `read_at` in `epoch`, showing `songs`,
        is still current: none of them announced since."""
        last = self._last
        return epoch == self.epoch and all(last.get(song, 0) <= read_at for song in songs)


def _parse(entries: Iterable[bytes] | None) -> dict[int, list[str]] | None:
    """`{generation: song ids}`, or None when an entry is unreadable or says "*"."""
    if entries is None:
        return None
    changed: dict[int, list[str]] = {}
    for entry in entries:
        generation, _, ids = entry.decode("ascii", "replace").partition(":")
        if ids == EVERY_SONG or not generation.isdigit():
            return None
        changed[int(generation)] = ids.split(",") if ids else []
    return changed
