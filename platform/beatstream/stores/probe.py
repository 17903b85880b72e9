"""Reach each store once, concurrently and within a deadline, and say what answered.

Each probe is a single round trip that also returns the server's own version string
(MongoDB `buildInfo`, Elasticsearch `GET /`, Redis `INFO server`), so readiness and
`stack status` report what is really running rather than what we think we started.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from beatstream.errors import StoreUnavailableError
from beatstream.redact import redact_text
from beatstream.settings import ElasticsearchSettings, MongoSettings, RedisSettings
from beatstream.stores.clients import Stores

STORE_NAMES = ("mongodb", "elasticsearch", "redis")


@dataclass(frozen=True, slots=True)
class StoreStatus:
    name: str
    url: str
    up: bool
    version: str | None = None
    rtt_ms: float | None = None
    error: str | None = None


async def _mongo_version(stores: Stores) -> str:
    info = await stores.mongo.admin.command("buildInfo")
    return str(info.get("version", "unknown"))


async def _es_version(stores: Stores) -> str:
    info = await stores.es.info()
    version = info["version"]
    return f"{version['number']} ({version.get('build_flavor', 'default')})"


async def _redis_version(stores: Stores) -> str:
    info = await stores.redis.info("server")
    if "redis_version" not in info:  # a cluster client answers per node
        info = next(iter(info.values()))
    return str(info["redis_version"])


_PROBES: dict[str, Callable[[Stores], Awaitable[str]]] = {
    "mongodb": _mongo_version,
    "elasticsearch": _es_version,
    "redis": _redis_version,
}


def _safe_url(stores: Stores, name: str) -> str:
    """Store names are also the names of their settings sections."""
    section: MongoSettings | ElasticsearchSettings | RedisSettings = getattr(stores.settings, name)
    return section.safe_url


def _short_reason(exc: Exception) -> str:
    """First line of the error, without PyMongo's topology dump; passwords masked."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    for noise in (" (configured timeouts", ", Timeout:"):
        text = text.split(noise, 1)[0]
    return redact_text(f"{type(exc).__name__}: {text}")[:300]


async def probe_store(stores: Stores, name: str, timeout_s: float) -> StoreStatus:
    url = _safe_url(stores, name)
    started = time.perf_counter()
    try:
        version = await asyncio.wait_for(_PROBES[name](stores), timeout=timeout_s)
    except TimeoutError:
        return StoreStatus(name, url, up=False, error=f"no answer within {timeout_s:g}s")
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported with its cause
        return StoreStatus(name, url, up=False, error=_short_reason(exc))
    rtt_ms = round((time.perf_counter() - started) * 1000, 2)
    return StoreStatus(name, url, up=True, version=version, rtt_ms=rtt_ms)


async def probe_all(stores: Stores, timeout_s: float) -> list[StoreStatus]:
    return list(await asyncio.gather(*(probe_store(stores, n, timeout_s) for n in STORE_NAMES)))


async def require_all_up(stores: Stores, timeout_s: float) -> list[StoreStatus]:
    """Probe every store; raise for the first one down, naming it and its redacted URL."""
    statuses = await probe_all(stores, timeout_s)
    for status in statuses:
        if not status.up:
            raise StoreUnavailableError(status.name, status.url, status.error or "unknown error")
    return statuses
