"""Structured logging: one JSON object per line, every line tagged with its request id.

Passwords never reach a log line: the formatter redacts URL credentials in the
message and in any exception text. Uvicorn's loggers are routed through the same
handler so access logs, errors and ours share one format.

Off the hot path (docs/performance.md): a request's thread only makes the record
(request id and message fixed then, no caller lookup) and puts it on a queue; one
writer thread per process formats, redacts and writes it. The access line is uvicorn's,
formatted once; redaction scans it in one pass and returns at once when it has neither
`://` nor `=` (beatstream.redact).
"""

from __future__ import annotations

import atexit
import copy
import logging
import logging.config
import queue
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from typing import Any

import orjson

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


class RecordEnqueuer(QueueHandler):
    """The caller's side of the queue: the message is merged with its arguments here
    (they may change once the caller moves on) and the request id was attached by the
    handler's filter, in the caller's context. `exc_info` is kept: the queue never
    leaves the process, and the writer formats the traceback into its own field."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        record.message = record.getMessage()
        record.msg = record.message
        record.args = None
        return record


_listener: QueueListener | None = None


def _stop_writer() -> None:
    """Drain the queue and join the writer: every line logged before exit is written."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


atexit.register(_stop_writer)


def queued_stderr(log_format: str) -> QueueHandler:
    """The process's log handler: records go on a queue, a writer thread formats them
    (JSON or console) onto stderr. Configuring again replaces the writer (its queue
    drained first). The caller lookup logging does for every record (a stack walk for
    file and line, which no formatter here prints) is switched off, as the logging
    HOWTO's "Optimization" section describes."""
    global _listener
    _stop_writer()
    logging._srcfile = None
    logging.logProcesses = False
    logging.logMultiprocessing = False
    sink = logging.StreamHandler(sys.stderr)
    sink.setFormatter(JsonFormatter() if log_format == "json" else ConsoleFormatter())
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = QueueListener(records, sink)
    _listener.start()
    return RecordEnqueuer(records)


def logging_config(settings: LogSettings) -> dict[str, Any]:
    """A `dictConfig` for the whole process; uvicorn applies it in every worker too.
    The filters run on the caller's side of the queue (the request id is a context
    variable; a dropped record is never queued)."""
    quiet = max(logging.WARNING, logging.getLevelName(settings.level))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "startup_failure": {"()": StartupFailureFilter},
        },
        "handlers": {
            "stderr": {
                "()": queued_stderr,
                "log_format": settings.format,
                "filters": ["request_id", "startup_failure"],
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
