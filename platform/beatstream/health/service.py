from __future__ import annotations

from beatstream.health.schemas import Readiness, StoreHealth
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
