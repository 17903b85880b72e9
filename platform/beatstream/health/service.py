"""Readiness: every store answers. Concurrent checks share one round of probes.

Load balancers and orchestrators poll readiness from many places at once; without
coalescing, N pollers cost the stores N pings each. One round in flight at a time,
and its answer reused for `ttl_s`, keeps the stores' load flat whatever the pollers do.
"""

from __future__ import annotations

import asyncio
import time

from beatstream.health.schemas import Readiness, StoreHealth
from beatstream.metrics.families import STORE_UP
from beatstream.stores import Stores, probe_all


async def readiness(stores: Stores, timeout_s: float) -> Readiness:
    statuses = await probe_all(stores, timeout_s)
    return Readiness(
        status="ready" if all(s.up for s in statuses) else "unavailable",
        stores={
            s.name: StoreHealth(up=s.up, version=s.version, rtt_ms=s.rtt_ms, error=s.error)
            for s in statuses
        },
    )


class ReadinessProbe:
    def __init__(self, stores: Stores, timeout_s: float, ttl_s: float) -> None:
        self._stores = stores
        self._timeout_s = timeout_s
        self._ttl_s = ttl_s
        self._inflight: asyncio.Task[Readiness] | None = None
        self._last: tuple[float, Readiness] | None = None

    async def check(self) -> Readiness:
        if self._last is not None and time.monotonic() - self._last[0] < self._ttl_s:
            return self._last[1]
        if self._inflight is None:
            self._inflight = asyncio.create_task(self._probe())
        # shield: one impatient caller going away must not cancel the others' answer.
        return await asyncio.shield(self._inflight)

    async def _probe(self) -> Readiness:
        try:
            report = await readiness(self._stores, self._timeout_s)
            for name, health in report.stores.items():
                STORE_UP.labels(name).set(1 if health.up else 0)
            self._last = (time.monotonic(), report)
            return report
        finally:
            self._inflight = None
