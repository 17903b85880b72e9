"""The generated catalogue as NDJSON files, and a loader for such files.

One file per kind (`artists.ndjson`, `songs.ndjson`, `listeners.ndjson`,
`plays.ndjson`), one document per line in MongoDB Extended JSON, relaxed mode
(`bson.json_util`): `{"$oid": ...}`, `{"$date": "...Z"}`, `{"$numberDecimal": ...}`,
so ids, instants and money come back as the same BSON types, not as strings.

Files may come from elsewhere (edited by hand, produced by another tool), so the
loader trusts nothing: each line must parse and then validate against the Beanie
model of its collection. A bad line is reported by file and line number and skipped;
the good lines around it are still loaded. What is written is the model's own
encoding of the line, so a loaded file stores exactly what the API would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import IO, Any

from beanie import Document
from beanie.odm.utils.dump import get_dict
from bson import json_util
from pydantic import ValidationError

from pipelines.derived import DerivedStores, after_seed
from seed import generate
from seed.generate import KINDS, Counts
from seed.load import (
    MODELS,
    Database,
    Failure,
    LoadReport,
    Progress,
    Row,
    collection_of,
    prepare,
    write,
)

JSON_OPTIONS = json_util.RELAXED_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=UTC)
# Lines read per thread hop: big enough to amortise the hop, small enough to stay flat.
_READ_CHUNK = 1000
_PROGRESS_EVERY = 1000


class LineError(ValueError):
    """Why one line cannot be loaded; the message names the problem, not the line."""


def file_name(kind: str) -> str:
    return f"{kind}.ndjson"


@dataclass(slots=True)
class ExportReport:
    out_dir: Path
    lines: dict[str, int] = field(default_factory=dict)  # per file name
    elapsed_s: float = 0.0


def _export_file(path: Path, docs: Iterator[Row], total: int, progress: Progress | None) -> int:
    """Write through a temporary name and rename, so a crash never leaves a file that
    looks complete but is not."""
    partial = path.with_name(path.name + ".partial")
    written = 0
    with partial.open("w", encoding="utf-8") as out:
        for written, doc in enumerate(docs, start=1):
            out.write(json_util.dumps(doc, json_options=JSON_OPTIONS))
            out.write("\n")
            if progress and written % _PROGRESS_EVERY == 0:
                progress(path.name, written, total)
    partial.replace(path)
    if progress:
        progress(path.name, written, total)
    return written


def _export_all(
    out_dir: Path, counts: Counts, seed: int, progress: Progress | None
) -> ExportReport:
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ExportReport(out_dir)
    for kind in KINDS:
        name = file_name(kind)
        docs = generate.stream(kind, seed, counts)
        report.lines[name] = _export_file(out_dir / name, docs, counts.of(kind), progress)
    report.elapsed_s = time.perf_counter() - started
    return report


async def export_ndjson(
    out_dir: Path | str, counts: Counts, seed: int, *, progress: Progress | None = None
) -> ExportReport:
    """Write the catalogue for `seed` as four NDJSON files under `out_dir`.

    The same data `load` writes, line `n` being document `n - 1`. Generation and file
    writes run in a worker thread (they are all blocking work), one document at a time.
    """
    return await asyncio.to_thread(_export_all, Path(out_dir), counts, seed, progress)


def _validation_reason(model: type[Document], exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "(document)"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"not a valid {model.__name__}: {where}: {first['msg']}{more}"


def parse_line(text: str, model: type[Document]) -> Row:
    """One NDJSON line -> the document to store, as `model` would store it.

    Raises `LineError` for a line that is not JSON, not an object, not valid for the
    model, or without an `_id` (a natural key is what makes reloading idempotent).
    """
    try:
        raw: Any = json_util.loads(text, json_options=JSON_OPTIONS)
    except Exception as exc:  # noqa: BLE001 - json_util raises many types for bad input
        raise LineError(f"bad JSON: {type(exc).__name__}: {exc}") from None
    if not isinstance(raw, dict):
        raise LineError(f"not a JSON object but {type(raw).__name__}")
    try:
        document = model.model_validate(raw)
    except ValidationError as exc:
        raise LineError(_validation_reason(model, exc)) from None
    if document.id is None:
        raise LineError("no _id: every line needs its natural key")
    row: Row = get_dict(document, to_db=True)
    return row


def _read_chunk(handle: IO[str]) -> list[str]:
    return list(itertools.islice(handle, _READ_CHUNK))


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


async def _parsed(
    path: Path, model: type[Document], report: LoadReport
) -> AsyncGenerator[tuple[int, Row], None]:
    """Good lines of `path` as `(line, document)`; bad ones go to `report`. Blank lines
    (a trailing newline, say) are skipped silently. File reads run in a thread."""
    handle = await asyncio.to_thread(path.open, "r", encoding="utf-8", errors="replace")
    try:
        line = 0
        while chunk := await asyncio.to_thread(_read_chunk, handle):
            for text in chunk:
                line += 1
                if not text.strip():
                    continue
                try:
                    yield line, parse_line(text, model)
                except LineError as exc:
                    report.fail(Failure(path.name, line, str(exc)))
    finally:
        await asyncio.to_thread(handle.close)


def present_files(in_dir: Path) -> list[tuple[str, Path]]:
    return [
        (kind, in_dir / file_name(kind)) for kind in KINDS if (in_dir / file_name(kind)).is_file()
    ]


async def load_ndjson(
    db: Database,
    in_dir: Path | str,
    *,
    derived: DerivedStores | None,
    batch_size: int = 1000,
    reset: bool = False,
    progress: Progress | None = None,
) -> LoadReport:
    """Load whichever of the four NDJSON files `in_dir` holds, in dependency order.

    Idempotent like `load` (upserts by `_id`). Malformed lines are counted in
    `report.failed` and listed (file, line, reason) in `report.failures`. References
    between files (a play's song) are not checked: that would cost a lookup per line.
    Raises `FileNotFoundError` when none of the files is there. `derived`: as for `load`.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    folder = Path(in_dir)
    files = present_files(folder)
    if not files:
        names = ", ".join(file_name(kind) for kind in KINDS)
        raise FileNotFoundError(f"none of {names} in {folder}")
    started = time.perf_counter()
    report = LoadReport()
    await prepare(db, reset=reset, derived=derived)  # also lets the Beanie models validate
    for kind, path in files:
        total = await asyncio.to_thread(_count_lines, path)
        name = collection_of(kind)
        async with contextlib.aclosing(_parsed(path, MODELS[kind], report)) as rows:
            await write(
                db[name],
                rows,
                report=report,
                source=path.name,
                batch_size=batch_size,
                total=total,
                progress=progress,
            )
    if derived is not None:
        report.derived = await after_seed(db, derived, reset=reset)
    report.elapsed_s = time.perf_counter() - started
    return report
