"""Whether an account's tokens still count, and with which role: read per request
through a short per-process cache.

A token's signature is checked without I/O, but the account behind it can change
while the token lives: an operator demotes it, its owner signs out everywhere or
changes the password, or it is erased. Each authenticated request therefore looks
at the account's current role and token generation. MongoDB holds them; this cache
keeps them `ttl_s` per process, which is the bound on how long such a change made
elsewhere (another API process, the `accounts grant` CLI) takes to apply here. A
change made through this process invalidates its entry at once.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from beanie import PydanticObjectId

from beatstream.auth.principals import Role


@dataclass(frozen=True, slots=True)
class AccountState:
    role: Role
    generation: int


Loader = Callable[[PydanticObjectId], Awaitable[AccountState | None]]


class AccountStates:
    """Each account's state (or its absence: an erased account) reused for `ttl_s`.

    Bounded both ways: an entry is used at most `ttl_s` after it was read, and at
    most `max_entries` are kept (oldest dropped first). A read that overlaps an
    `invalidate` is not stored, so an invalidation cannot be undone by a slower
    read of the old state finishing after it.
    """

    def __init__(
        self,
        ttl_s: float,
        loader: Loader,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._load = loader
        self._clock = clock
        self._entries: dict[PydanticObjectId, tuple[float, AccountState | None]] = {}
        self._invalidations = 0

    async def get(self, account_id: PydanticObjectId) -> AccountState | None:
        if self.ttl_s <= 0:
            return await self._load(account_id)
        started = self._clock()
        cached = self._entries.get(account_id)
        if cached is not None and cached[0] > started:
            return cached[1]
        invalidations = self._invalidations
        state = await self._load(account_id)
        if invalidations == self._invalidations:
            self._entries.pop(account_id, None)
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            # Counted from before the read: what it returned is at least that fresh.
            self._entries[account_id] = (started + self.ttl_s, state)
        return state

    def invalidate(self, account_id: PydanticObjectId) -> None:
        """After this process changed the account: the next request reads it again."""
        self._invalidations += 1
        self._entries.pop(account_id, None)
