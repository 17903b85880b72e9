"""The one place a rebuild tells the response cache that its answers are stale.

A reindex swaps an alias and a seed rewrites MongoDB: every cached answer computed
before is wrong from that moment, and an analytics answer is kept in Redis for up to
an hour. So the importable pipeline functions (not only their CLI wrappers) call
`invalidate` once they finish, after the alias swap or the load: answers computed
from the old data before that moment are unreachable, answers computed after the
swap but before the bump cost one recompute.

A bump that fails (Redis down) is retried a few times, then reported in the return
value: the rebuild itself succeeded and is not undone, but until a later bump (the
next sync batch, or running the rebuild again) stale answers can be served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache

ATTEMPTS = 3
RETRY_WAIT_S = 0.5


async def invalidate(cache: ResponseCache | None, *namespaces: CacheNamespace) -> bool | None:
    """Bump every namespace; True when all were bumped, False when one never was,
    None when there is no cache to tell (`cache=None`: a scratch store, a benchmark)."""
    if cache is None:
        return None
    pending = list(dict.fromkeys(namespaces))
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_WAIT_S * attempt)
        pending = [ns for ns in pending if await cache.invalidate(ns) < 0]
        if not pending:
            return True
    return False


async def announce(cache: ResponseCache | None, song_ids: Sequence[object]) -> bool | None:
    """Tell the API processes which songs changed (`ResponseCache.announce`): they drop
    the kept answers showing those songs and keep every other. Retried and reported
    like `invalidate`; nothing to announce is True."""
    if cache is None:
        return None
    if not song_ids:
        return True
    ids = [str(song_id) for song_id in dict.fromkeys(song_ids)]
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_WAIT_S * attempt)
        if await cache.announce(ids) >= 0:
            return True
    return False
