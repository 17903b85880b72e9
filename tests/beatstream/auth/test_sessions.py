"""The per-process account cache: how long a change made elsewhere can go unseen.

Pure logic with an injected clock and a counting loader: no store, no sleeping.
"""

from __future__ import annotations

from beanie import PydanticObjectId

from beatstream.auth.principals import Role
from beatstream.auth.sessions import AccountState, AccountStates


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Accounts:
    """The loader: what MongoDB holds, and how many reads were made."""

    def __init__(self, clock: Clock, *, read_takes_s: float = 0.0) -> None:
        self.states: dict[PydanticObjectId, AccountState] = {}
        self.reads = 0
        self.clock = clock
        self.read_takes_s = read_takes_s
        self.during_read: list[AccountStates] = []  # invalidated while a read runs

    async def load(self, account_id: PydanticObjectId) -> AccountState | None:
        self.reads += 1
        state = self.states.get(account_id)
        self.clock.now += self.read_takes_s
        for cache in self.during_read:
            cache.invalidate(account_id)
        return state


ADMIN = AccountState(Role.admin, 0)
DEMOTED = AccountState(Role.listener, 0)


async def test_a_change_elsewhere_is_seen_once_the_ttl_has_passed_and_not_before() -> None:
    clock, account = Clock(), PydanticObjectId()
    accounts = Accounts(clock)
    accounts.states[account] = ADMIN
    cache = AccountStates(5.0, accounts.load, clock=clock)
    assert await cache.get(account) == ADMIN

    accounts.states[account] = DEMOTED  # another process demotes the account
    clock.now += 4.999
    stale = await cache.get(account)
    clock.now += 0.001
    fresh = await cache.get(account)

    assert stale == ADMIN
    assert fresh == DEMOTED
    assert accounts.reads == 2


async def test_the_bound_counts_from_before_the_read_not_after_it() -> None:
    """A slow read must not stretch the bound: what it returned is only as fresh as
    the moment it started."""
    clock, account = Clock(), PydanticObjectId()
    accounts = Accounts(clock, read_takes_s=3.0)
    accounts.states[account] = ADMIN
    cache = AccountStates(5.0, accounts.load, clock=clock)
    started = clock.now
    await cache.get(account)  # the clock is now started + 3

    clock.now = started + 5.0
    await cache.get(account)

    assert accounts.reads == 2


async def test_an_invalidation_in_this_process_applies_at_the_next_request() -> None:
    clock, account = Clock(), PydanticObjectId()
    accounts = Accounts(clock)
    accounts.states[account] = AccountState(Role.listener, 0)
    cache = AccountStates(60.0, accounts.load, clock=clock)
    await cache.get(account)

    accounts.states[account] = AccountState(Role.listener, 1)  # logout everywhere
    cache.invalidate(account)

    assert await cache.get(account) == AccountState(Role.listener, 1)
    assert accounts.reads == 2


async def test_a_read_overlapping_an_invalidation_is_not_kept() -> None:
    """Otherwise a read of the old state, finishing after the invalidation, would
    undo it for a whole TTL."""
    clock, account = Clock(), PydanticObjectId()
    accounts = Accounts(clock)
    accounts.states[account] = ADMIN
    cache = AccountStates(60.0, accounts.load, clock=clock)
    accounts.during_read.append(cache)

    await cache.get(account)
    accounts.during_read.clear()
    await cache.get(account)

    assert accounts.reads == 2


async def test_an_erased_account_is_remembered_as_absent_for_the_ttl_too() -> None:
    clock, account = Clock(), PydanticObjectId()
    accounts = Accounts(clock)
    cache = AccountStates(5.0, accounts.load, clock=clock)

    assert await cache.get(account) is None
    assert await cache.get(account) is None
    assert accounts.reads == 1


async def test_ttl_zero_reads_every_time() -> None:
    clock, account = Clock(), PydanticObjectId()
    accounts = Accounts(clock)
    accounts.states[account] = ADMIN
    cache = AccountStates(0, accounts.load, clock=clock)

    for _ in range(3):
        await cache.get(account)

    assert accounts.reads == 3


async def test_at_most_max_entries_are_kept_oldest_dropped_first() -> None:
    clock = Clock()
    accounts = Accounts(clock)
    ids = [PydanticObjectId() for _ in range(3)]
    cache = AccountStates(60.0, accounts.load, max_entries=2, clock=clock)
    for account in ids:
        await cache.get(account)

    await cache.get(ids[2])  # kept
    await cache.get(ids[0])  # dropped when the third came in

    assert accounts.reads == 4
