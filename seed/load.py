"""Load the generated catalogue into MongoDB: batched, idempotent, in constant memory.

Each batch is one unordered `bulk_write` of `ReplaceOne({"_id": id}, doc, upsert=True)`.
Because every `_id` is a natural key (see `seed.generate`), a second run replaces
each document with itself instead of adding a copy, and an interrupted run can
simply be started again. Unordered, so one bad document does not stop the rest of
its batch; its failure is reported with its position (its line in the equivalent
NDJSON export).

The stand-in server (mongo-java-server) supports these upserting bulk writes and
reports `nUpserted`/`nMatched` like MongoDB, so there is no fallback path.

After the load, `pipelines.derived.after_seed` brings the copies in line: a reset
rebuilds the Elasticsearch indices, and every seed bumps the cache namespaces it fed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from beanie import Document, init_beanie
from pymongo import ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from beatstream.catalog.documents import Artist, Song
from beatstream.documents import DOCUMENT_MODELS
from beatstream.listeners.documents import Listener, PlayEvent
from beatstream.partners.views.pseudonyms import Pseudonyms
from pipelines.derived import DerivedReport, DerivedStores, after_seed, require_reachable
from seed import generate
from seed.generate import KINDS, PLAYS_SINCE, PLAYS_UNTIL, Counts

Row = dict[str, Any]
Database = AsyncDatabase[Row]

# Which Beanie model each generated kind must satisfy, and so which collection it fills.
MODELS: dict[str, type[Document]] = {
    "artists": Artist,
    "songs": Song,
    "listeners": Listener,
    "plays": PlayEvent,
}
# Failures kept verbatim; beyond this only the count grows, so a file of a million
# bad lines cannot fill memory.
KEPT_FAILURES = 1_000


class Progress(Protocol):
    """Told after each batch: the collection, how far it got, and its total if known.

    `done` counts positions (lines or documents), good or failed. NDJSON export calls
    it from a worker thread, so it must be thread-safe (rich's `Progress` is).
    """

    def __call__(self, collection: str, done: int, total: int | None) -> None: ...


def collection_of(kind: str) -> str:
    name: str = MODELS[kind].Settings.name
    return name


@dataclass(frozen=True, slots=True)
class Failure:
    """One document that was not loaded. `line` is 1-based: the line of the NDJSON file,
    or for generated documents the index + 1 (the line it has in an export)."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass(slots=True)
class LoadReport:
    written: dict[str, int] = field(default_factory=dict)  # inserted or replaced, per collection
    inserted: dict[str, int] = field(default_factory=dict)  # of which new
    failed: int = 0
    failures: list[Failure] = field(default_factory=list)  # the first KEPT_FAILURES
    elapsed_s: float = 0.0
    # What was rebuilt and invalidated after the load; None when no derived stores were given.
    derived: DerivedReport | None = None

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def fail(self, failure: Failure) -> None:
        self.failed += 1
        if len(self.failures) < KEPT_FAILURES:
            self.failures.append(failure)


def _short(message: str, limit: int = 300) -> str:
    line = message.splitlines()[0] if message else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


async def numbered(docs: Iterable[Row]) -> AsyncIterator[tuple[int, Row]]:
    """`(line, document)` pairs, 1-based, as `write` takes them."""
    for line, doc in enumerate(docs, start=1):
        yield line, doc


async def prepare(db: Database, *, reset: bool, derived: DerivedStores | None) -> None:
    """Drop the seeded collections if asked, then create every model's indexes.

    Indexes come first so the unique email index guards the load itself. This also
    binds the Beanie models to `db` (process-wide, as `init_beanie` always does).
    A reset first checks that Elasticsearch answers: the rebuild after the load needs it.
    """
    if reset and derived is not None:
        await require_reachable(derived)
    if reset:
        for kind in KINDS:
            await db.drop_collection(collection_of(kind))
    await init_beanie(database=db, document_models=DOCUMENT_MODELS)


async def _flush(
    collection: AsyncCollection[Row],
    batch: list[ReplaceOne[Row]],
    lines: list[int],
    report: LoadReport,
    source: str,
) -> None:
    name = collection.name
    try:
        result = await collection.bulk_write(batch, ordered=False)
        upserted, matched = result.upserted_count, result.matched_count
    except BulkWriteError as exc:
        details = exc.details
        upserted, matched = details.get("nUpserted", 0), details.get("nMatched", 0)
        for error in details.get("writeErrors", []):
            report.fail(Failure(source, lines[error["index"]], _short(str(error["errmsg"]))))
    report.written[name] = report.written.get(name, 0) + upserted + matched
    report.inserted[name] = report.inserted.get(name, 0) + upserted


async def write(
    collection: AsyncCollection[Row],
    rows: AsyncIterator[tuple[int, Row]],
    *,
    report: LoadReport,
    source: str,
    batch_size: int,
    total: int | None,
    progress: Progress | None = None,
) -> None:
    """Upsert `(line, document)` pairs by `_id`, `batch_size` per round trip.

    Holds one batch at a time. Write errors (a duplicate email, say) are recorded
    against their line; the rest of the batch still lands.
    """
    name = collection.name
    report.written.setdefault(name, 0)
    report.inserted.setdefault(name, 0)
    if progress:
        progress(name, 0, total)
    batch: list[ReplaceOne[Row]] = []
    lines: list[int] = []
    line = 0
    async for line, row in rows:
        batch.append(ReplaceOne({"_id": row["_id"]}, row, upsert=True))
        lines.append(line)
        if len(batch) >= batch_size:
            await _flush(collection, batch, lines, report, source)
            if progress:
                progress(name, line, total)
            batch, lines = [], []
    if batch:
        await _flush(collection, batch, lines, report, source)
    if progress:
        progress(name, line if total is None else total, total)


def with_listener_keys(docs: Iterable[Row], pseudonyms: Pseudonyms) -> Iterator[Row]:
    """Each listener with its pseudonymous key, computed as it is written (as the API
    does), so a re-seeded listener never drops out of the partner views in between."""
    for doc in docs:
        yield {**doc, "listener_key": pseudonyms.listener_key(doc["_id"])}


async def load(
    db: Database,
    counts: Counts,
    seed: int,
    *,
    derived: DerivedStores | None,
    batch_size: int = 1000,
    reset: bool = False,
    progress: Progress | None = None,
    plays_since: datetime = PLAYS_SINCE,
    plays_until: datetime = PLAYS_UNTIL,
    pseudonyms: Pseudonyms | None = None,
) -> LoadReport:
    """Generate and upsert the catalogue for `seed`: artists, songs, listeners, plays.

    Loading the same `counts` and `seed` again writes the same documents over
    themselves (the report then shows `inserted` 0); `reset` drops the four
    collections first, for a database that should hold exactly this seed. Without
    `pseudonyms` listeners get no third-party key (they stay out of the partner views
    until `beatstream partners backfill-keys`).

    `derived` has no default on purpose: the stores copied from this database (None
    for a database no index or API reads); see `pipelines.derived.after_seed`.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    report = LoadReport()
    await prepare(db, reset=reset, derived=derived)
    for kind in KINDS:
        name = collection_of(kind)
        docs = generate.stream(kind, seed, counts, plays_since, plays_until)
        if kind == "listeners" and pseudonyms is not None:
            docs = with_listener_keys(docs, pseudonyms)
        await write(
            db[name],
            numbered(docs),
            report=report,
            source=name,
            batch_size=batch_size,
            total=counts.of(kind),
            progress=progress,
        )
    if derived is not None:
        report.derived = await after_seed(db, derived, reset=reset)
    report.elapsed_s = time.perf_counter() - started
    return report
