"""Structured logging: one JSON object per line, every line tagged with its request id.

Passwords never reach a log line: the formatter redacts URL credentials in the
message and in any exception text. Uvicorn's loggers are routed through the same
handler so access logs, errors and ours share one format.

Off the hot path (docs/performance.md): a request's thread only makes the record
(request id and message fixed then, no caller lookup) and appends it to a queue; one
writer thread per process formats, redacts and writes what was queued every
`WRITE_EVERY_S`, in one write. The access line is uvicorn's,
formatted once; redaction scans it in one pass and returns at once when it has neither
`://` nor `=` (beatstream.redact).
"""

from __future__ import annotations

import atexit
import copy
import logging
import logging.config
import sys
import threading
from collections import deque
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from beatstream.metrics.tracing import TraceIdFilter, tracing_requested
from beatstream.redact import redact_text
from beatstream.settings import LogSettings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# A message or field longer than this is cut: an access-log line carries whatever URL a
# client sent. Cut after redaction, so a secret's cut-off half is never what remains.
MAX_LOGGED_CHARS = 4096


def clean(text: str) -> str:
    """Redacted, then cut to MAX_LOGGED_CHARS with a note of how much was dropped."""
    text = redact_text(text)
    if len(text) <= MAX_LOGGED_CHARS:
        return text
    return f"{text[:MAX_LOGGED_CHARS]}...[{len(text) - MAX_LOGGED_CHARS} more chars]"


_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName", "color_message"}
)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": clean(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and value is not None:
                payload[key] = clean(value) if isinstance(value, str) else value
        if record.exc_info:
            # Not cut: a traceback's end is what matters, and its text is ours.
            payload["exc"] = redact_text(self.formatException(record.exc_info))
        return orjson.dumps(payload, default=str).decode()


class ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        return clean(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


class StartupFailureFilter(logging.Filter):
    """Drop the ASGI server's traceback for a store that was unreachable at start.

    That is an operator's problem, not a bug: the lifespan has already logged one
    clear line naming the store, so a traceback wall for it adds only noise.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("Traceback" in message and "StoreUnavailableError" in message)


# How long a record may wait for the writer. The writer sleeps between batches instead
# of being woken per record: a wake-up per line (a thread switch and a GIL hand-over on
# every request) cost the event loop more than formatting the line did.
WRITE_EVERY_S = 0.05
# Only the access log is batched: it is the one logged on every request. Any other
# record is written at once by the caller, with everything queued before it. Uvicorn
# ends a SIGTERMed process by re-raising the signal (no `atexit`), so its last lines
# ("Shutting down" ... "Finished server process") are what write out the final
# access lines; only a SIGKILL can lose the last `WRITE_EVERY_S` of access lines.
BATCHED_LOGGERS = frozenset({"uvicorn.access"})


class BatchWriter:
    """The writer thread: every `WRITE_EVERY_S` it takes whatever was queued, formats
    each record with the sink's formatter (JSON or console, redaction included) and
    writes the batch to the sink's stream in one call. `stop` writes what is left."""

    def __init__(self, sink: logging.StreamHandler[TextIO]) -> None:
        self.sink = sink
        self.records: deque[logging.LogRecord] = deque()
        self._turn = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="beatstream-log-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(WRITE_EVERY_S):
            self.write_queued()
        self.write_queued()

    def write_queued(self) -> None:
        """Write every queued record, in order; the writer thread and a caller flushing
        an unbatched record take turns (`_turn`), so no line is written out of order."""
        with self._turn:
            lines = []
            while self.records:
                record = self.records.popleft()
                try:
                    lines.append(self.sink.format(record))
                # As every logging handler does: a record that fails is reported, never raised.
                except Exception:  # noqa: BLE001
                    self.sink.handleError(record)
            if lines:
                try:
                    self.sink.stream.write("\n".join(lines) + "\n")
                    self.sink.flush()
                except Exception:  # noqa: BLE001
                    self.sink.handleError(record)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


class RecordEnqueuer(logging.Handler):
    """The caller's side: the message is merged with its arguments once, here (they may
    change once the caller moves on); the filters then run on it in the caller's
    context (the request id is a context variable; a dropped record is never queued),
    and the record is appended to the writer's queue: no lock, no wake-up (a deque's
    append is atomic). A record from outside `BATCHED_LOGGERS` is then written at once.
    `exc_info` is kept: the queue never leaves the process, and the
    writer formats the traceback into its own field."""

    def __init__(self, writer: BatchWriter) -> None:
        super().__init__()
        self.writer = writer

    def handle(self, record: logging.LogRecord) -> bool:
        record = copy.copy(record)
        record.message = record.getMessage()
        record.msg = record.message
        record.args = None
        if not self.filter(record):
            return False
        self.writer.records.append(record)
        if record.name not in BATCHED_LOGGERS:
            self.writer.write_queued()
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)


_writer: BatchWriter | None = None


def _stop_writer() -> None:
    """Write what is queued and join the writer: every line logged before exit is written."""
    global _writer
    if _writer is not None:
        _writer.stop()
        _writer = None


atexit.register(_stop_writer)


def queued_stderr(log_format: str) -> RecordEnqueuer:
    """The process's log handler: records are queued, a writer thread formats them
    (JSON or console) onto stderr. Configuring again replaces the writer (what it
    holds written first). The caller lookup logging does for every record (a stack
    walk for file and line, which no formatter here prints) is switched off, as the
    logging HOWTO's "Optimization" section describes."""
    global _writer
    _stop_writer()
    logging._srcfile = None
    logging.logProcesses = False
    logging.logMultiprocessing = False
    sink = logging.StreamHandler(sys.stderr)
    sink.setFormatter(JsonFormatter() if log_format == "json" else ConsoleFormatter())
    _writer = BatchWriter(sink)
    return RecordEnqueuer(_writer)


def logging_config(settings: LogSettings) -> dict[str, Any]:
    """A `dictConfig` for the whole process; uvicorn applies it in every worker too.
    The filters run on the caller's side of the queue (`RecordEnqueuer`)."""
    quiet = max(logging.WARNING, logging.getLevelName(settings.level))
    # With tracing on (OTEL_*), lines written inside a span name its trace and span.
    traced = tracing_requested()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "startup_failure": {"()": StartupFailureFilter},
            **({"trace": {"()": TraceIdFilter}} if traced else {}),
        },
        "handlers": {
            "stderr": {
                "()": queued_stderr,
                "log_format": settings.format,
                "filters": ["request_id", "startup_failure", *(["trace"] if traced else [])],
            }
        },
        "root": {"handlers": ["stderr"], "level": settings.level},
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            **{name: {"level": quiet} for name in ("elastic_transport", "pymongo", "asyncio")},
        },
    }


def configure_logging(settings: LogSettings) -> None:
    logging.config.dictConfig(logging_config(settings))
