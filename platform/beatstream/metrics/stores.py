"""Latency and errors of every call to the three stores, without touching a call site.

- MongoDB: a PyMongo command listener (its command monitoring events carry the
  server round trip's duration), per command name.
- Elasticsearch: a client subclass timing `perform_request`, labelled with the API's
  endpoint id (`search`, `bulk`, `indices.create`), which the client passes on every
  call; `options()` copies keep the subclass.
- Redis: client subclasses timing `execute_command` per command (scripts run as
  `EVALSHA`), and a pipeline's `execute` as one `pipeline` call.

Operation names come from our own code's calls, so the label stays bounded.
"""

from __future__ import annotations

import time
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import RedisCluster

from beatstream.metrics.families import STORE_DURATION, STORE_ERRORS


def _observe(store: str, operation: str, seconds: float, failed: bool) -> None:
    STORE_DURATION.labels(store, operation).observe(seconds)
    if failed:
        STORE_ERRORS.labels(store, operation).inc()


class MongoCommandMetrics(CommandListener):
    """Times each MongoDB command; a failed command (error reply or network) counts as
    an error."""

    def started(self, event: CommandStartedEvent) -> None:
        """Nothing to do: the succeeded and failed events carry the duration."""

    def succeeded(self, event: CommandSucceededEvent) -> None:
        _observe("mongodb", event.command_name, event.duration_micros / 1e6, False)

    def failed(self, event: CommandFailedEvent) -> None:
        _observe("mongodb", event.command_name, event.duration_micros / 1e6, True)


def _es_failed(exc: BaseException) -> bool:
    """A transport failure or a server error; a 404 or 409 is an answer, not a failure."""
    if isinstance(exc, ApiError):
        return exc.meta.status >= 500
    return isinstance(exc, TransportError)


class InstrumentedElasticsearch(AsyncElasticsearch):
    async def perform_request(
        self, method: str, path: str, **kwargs: Any
    ) -> Any:  # the base's signature, forwarded whole
        operation = kwargs.get("endpoint_id") or "other"
        start = time.perf_counter()
        failed = False
        try:
            return await super().perform_request(method, path, **kwargs)
        except Exception as exc:
            failed = _es_failed(exc)
            raise
        finally:
            _observe("elasticsearch", operation, time.perf_counter() - start, failed)


def _redis_operation(args: tuple[Any, ...]) -> str:
    name = args[0] if args else "other"
    return (name.decode() if isinstance(name, bytes) else str(name)).upper()


class InstrumentedPipeline(Pipeline):
    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        start = time.perf_counter()
        failed = True
        try:
            result = await super().execute(raise_on_error)
            failed = False
            return result
        finally:
            _observe("redis", "pipeline", time.perf_counter() - start, failed)


class InstrumentedRedis(Redis):
    async def execute_command(self, *args: Any, **options: Any) -> Any:
        start = time.perf_counter()
        failed = True
        try:
            result = await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
            failed = False
            return result
        finally:
            _observe("redis", _redis_operation(args), time.perf_counter() - start, failed)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> InstrumentedPipeline:
        return InstrumentedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )


class InstrumentedRedisCluster(RedisCluster):
    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        failed = True
        try:
            result = await super().execute_command(*args, **kwargs)
            failed = False
            return result
        finally:
            _observe("redis", _redis_operation(args), time.perf_counter() - start, failed)
