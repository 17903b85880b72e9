"""A random stream of catalogue changes (insert, update, delete), as the sync sees them."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable


async def mixed_changes(
    count: int,
    rng: random.Random,
    create: Callable[[], Awaitable[str]],
    update: Callable[[str], Awaitable[object]],
    delete: Callable[[str], Awaitable[object]],
    progress: Callable[[int], None] | None = None,
) -> Counter[str]:
    """`count` changes, 60% inserts, 30% updates, 10% deletes, of random live songs."""
    live: list[str] = []
    made: Counter[str] = Counter()
    for done in range(count):
        roll = rng.random()
        if roll < 0.6 or not live:
            live.append(await create())
            made["inserts"] += 1
        elif roll < 0.9:
            await update(rng.choice(live))
            made["updates"] += 1
        else:
            await delete(live.pop(rng.randrange(len(live))))
            made["deletes"] += 1
        if progress is not None:
            progress(done + 1)
    return made
