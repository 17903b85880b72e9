"""Elasticsearch bulk writes that check every item, a few requests in flight at once.

A `_bulk` call answers 200 even when items failed, so each item's status is read
and failures are returned with their reason; nothing is silently dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import AsyncElasticsearch


@dataclass
class BulkResult:
    succeeded: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: BulkResult) -> None:
        self.succeeded += other.succeeded
        self.failed.extend(other.failed)


def index_action(index: str, doc_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """Index with the MongoDB document's own `version` as an external version, so a write
    carrying an older version (a replay, a slow worker) can never overwrite a newer one."""
    return {
        "index": {
            "_index": index,
            "_id": doc_id,
            "version": int(row.get("version") or 1),
            "version_type": "external_gte",
        }
    }


def delete_action(index: str, doc_id: str, version: int) -> dict[str, Any]:
    return {
        "delete": {"_index": index, "_id": doc_id, "version": version, "version_type": "external"}
    }


def item_failures(response: Mapping[str, Any]) -> BulkResult:
    result = BulkResult()
    for item in response.get("items", []):
        action = next(iter(item.values()))
        status = int(action.get("status", 500))
        # A delete of a missing document (404) is the state we wanted, and a version
        # conflict (409) means the index already holds a newer write: neither is a failure.
        if status < 300 or status == 409 or (status == 404 and "delete" in item):
            result.succeeded += 1
        else:
            result.failed.append((str(action.get("_id")), str(action.get("error"))[:1000]))
    return result


async def send_chunks(
    es: AsyncElasticsearch,
    chunks: AsyncIterator[list[dict[str, Any]]],
    *,
    concurrency: int = 2,
    on_chunk: Any = None,
) -> BulkResult:
    """Send each chunk of bulk operations (action and source lines), `concurrency` at a time."""
    total = BulkResult()
    in_flight: set[asyncio.Task[BulkResult]] = set()

    async def send(operations: list[dict[str, Any]]) -> BulkResult:
        response = await es.bulk(operations=operations)
        return item_failures(response.body)

    def collect(done: set[asyncio.Task[BulkResult]]) -> None:
        for task in done:
            result = task.result()
            total.add(result)
            if on_chunk is not None:
                on_chunk(result)

    async for operations in chunks:
        if len(in_flight) >= concurrency:
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            collect(done)
        in_flight.add(asyncio.create_task(send(operations)))
    if in_flight:
        done, _ = await asyncio.wait(in_flight)
        collect(done)
    return total
