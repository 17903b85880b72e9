"""Structured logging: one JSON object per line, every line tagged with its request id.

Passwords never reach a log line: the formatter redacts URL credentials in the
message and in any exception text. Uvicorn's loggers are routed through the same
handler so access logs, errors and ours share one format.

Off the hot path (docs/performance.md): a request's thread only makes the record
(request id and message fixed then, no caller lookup) and appends it to a queue; one
writer thread per process formats, redacts and writes what was queued every
`WRITE_EVERY_S`, in one write. The access line is uvicorn's, formatted once;
redaction scans a line only where a secret can appear (`clean`).

The access line (one per request) has its own shorter road (`AccessLogger`): no
`LogRecord`, no handler walk, no copy on the request's side; a line the writer
formats straight to the JSON the formatter would have made (`access_json`). Profiled
under `wrk -c50` on a microcache hit (docs/performance.md), the standard road cost
~13 us on the event loop and ~9 us in the writer per line, about a sixth of the
request, and the writer's 50 ms batches held the GIL for ~10 ms at a time.
"""

from __future__ import annotations

import atexit
import copy
import logging
import logging.config
import math
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, NamedTuple, TextIO

import orjson

from beatstream.metrics.tracing import TraceIdFilter, tracing_requested
from beatstream.redact import redact_text
from beatstream.settings import LogSettings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# A message or field longer than this is cut: an access-log line carries whatever URL a
# client sent. Cut after redaction, so a secret's cut-off half is never what remains.
MAX_LOGGED_CHARS = 4096


# Every secret `redact_text` masks is a URL's password (after `://`) or the value of a
# parameter whose key (password, passwd, pwd, pass, secret, token, api_key, apikey,
# access_key; any case) contains one of these. An ASCII text with neither cannot hold
# one (outside ASCII, case-insensitive matching has look-alikes: U+017F for `s`).
_SECRET_KEY_PARTS = ("pass", "pwd", "secret", "token", "key")


def may_hold_secret(text: str) -> bool:
    """False only for a text `redact_text` would return unchanged: most access lines
    (`?q=love&limit=10`) skip its scan, which costs several times this check."""
    if "://" in text or not text.isascii():
        return True
    lowered = text.lower()
    return any(part in lowered for part in _SECRET_KEY_PARTS)


def clean(text: str) -> str:
    """Redacted, then cut to MAX_LOGGED_CHARS with a note of how much was dropped."""
    if may_hold_secret(text):
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


# The last second `iso_ms` formatted, and its text: lines come in bursts within a second.
_last_second: tuple[int, str] = (-1, "")


def iso_ms(created: float) -> str:
    """`datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")`, with
    the date and time of day made once per second: rounded to the microsecond as
    `fromtimestamp` does (half to even, carrying into the second), then cut to the ms."""
    global _last_second
    fraction, whole = math.modf(created)
    micros = round(fraction * 1e6)
    if created < 0 or micros >= 1_000_000:  # rare: the standard road
        return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    second = int(whole)
    cached_second, text = _last_second
    if cached_second != second:
        text = datetime.fromtimestamp(second, UTC).isoformat(timespec="seconds")[:-6]
        _last_second = (second, text)
    return f"{text}.{micros // 1000:03d}+00:00"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": iso_ms(record.created),
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
        return not is_startup_failure(record.getMessage())


def is_startup_failure(message: str) -> bool:
    return "Traceback" in message and "StoreUnavailableError" in message


# How long a record may wait for the writer. The writer sleeps between batches instead
# of being woken per record: a wake-up per line (a thread switch and a GIL hand-over on
# every request) cost the event loop more than formatting the line did.
WRITE_EVERY_S = 0.05
# Only the access log is batched: it is the one logged on every request. Any other
# record is written at once by the caller, with everything queued before it. Uvicorn
# ends a SIGTERMed process by re-raising the signal (no `atexit`), so its last lines
# ("Shutting down" ... "Finished server process") are what write out the final
# access lines; only a SIGKILL can lose the last `WRITE_EVERY_S` of access lines.
ACCESS_LOGGER = "uvicorn.access"
BATCHED_LOGGERS = frozenset({ACCESS_LOGGER})


class AccessLine(NamedTuple):
    """An access line queued by `AccessLogger`: what its JSON is made of."""

    created: float
    message: str
    request_id: str | None

    def as_record(self) -> logging.LogRecord:
        """The record the standard road would have made (to report a failed line)."""
        record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, "", 0, self.message, None, None)
        record.created = self.created
        record.request_id = self.request_id
        return record


def access_json(line: AccessLine) -> str:
    """The line `JsonFormatter` writes for the same access record (tested equal), made
    without the record: its standard fields are known, its only extra the request id."""
    payload = {
        "ts": iso_ms(line.created),
        "level": "info",
        "logger": ACCESS_LOGGER,
        "msg": clean(line.message),
    }
    if line.request_id is not None:
        payload["request_id"] = clean(line.request_id)
    return orjson.dumps(payload).decode()


class BatchWriter:
    """The writer thread: every `WRITE_EVERY_S` it takes whatever was queued, formats
    each record with the sink's formatter (JSON or console, redaction included; an
    `AccessLine` with `access_json`) and writes the batch to the sink's stream in one
    call. `stop` writes what is left."""

    def __init__(self, sink: logging.StreamHandler[TextIO]) -> None:
        self.sink = sink
        self.records: deque[logging.LogRecord | AccessLine] = deque()
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
                item = self.records.popleft()
                try:
                    if type(item) is AccessLine:
                        lines.append(access_json(item))
                    else:
                        lines.append(self.sink.format(item))  # type: ignore[arg-type]
                # As every logging handler does: a record that fails is reported, never raised.
                except Exception:  # noqa: BLE001
                    self.sink.handleError(_record_of(item))
            if lines:
                try:
                    self.sink.stream.write("\n".join(lines) + "\n")
                    self.sink.flush()
                except Exception:  # noqa: BLE001
                    self.sink.handleError(_record_of(item))

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


def _record_of(item: logging.LogRecord | AccessLine) -> logging.LogRecord:
    return item.as_record() if isinstance(item, AccessLine) else item


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


# The filters `logging_config` gives the enqueuer that `AccessLogger` applies itself.
_ACCESS_FILTERS = (RequestIdFilter, StartupFailureFilter)


class AccessLogger(logging.Logger):
    """uvicorn's access logger (`uvicorn.access`; `queued_stderr` gives it this class).

    `info` (the call uvicorn makes once per request) queues an `AccessLine` straight
    for the writer when the standard road would lead only there: no handler or filter
    on the way, the root's one handler our `RecordEnqueuer` with its usual filters and
    a JSON sink. It does what that road does, in the same order: the level check, the
    message merged with its arguments now, the request id read in the caller's
    context, a startup-failure traceback dropped. Anything else (a test's capture
    handler, tracing's filter, the console format, keyword arguments) takes the
    standard road (`Logger.info`)."""

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        enqueuer = None if kwargs else self._sole_enqueuer()
        if enqueuer is None or (len(args) == 1 and isinstance(args[0], Mapping)):
            super().info(msg, *args, **kwargs)
            return
        if not self.isEnabledFor(logging.INFO):
            return
        created = time.time()
        try:
            message = str(msg) % args if args else str(msg)
        except Exception:  # noqa: BLE001 - the standard road reports it (handleError)
            super().info(msg, *args, **kwargs)
            return
        if not is_startup_failure(message):
            enqueuer.writer.records.append(AccessLine(created, message, request_id_var.get()))

    def _sole_enqueuer(self) -> RecordEnqueuer | None:
        logger: logging.Logger | None = self
        while logger is not None and logger.parent is not None:  # up to the root
            if logger.handlers or logger.filters or logger.disabled or not logger.propagate:
                return None
            logger = logger.parent
        handlers = logging.root.handlers
        if len(handlers) != 1 or type(handlers[0]) is not RecordEnqueuer:
            return None
        enqueuer = handlers[0]
        if (
            enqueuer.level > logging.INFO
            or type(enqueuer.writer.sink.formatter) is not JsonFormatter
            or len(enqueuer.filters) != len(_ACCESS_FILTERS)
            or any(type(f) not in _ACCESS_FILTERS for f in enqueuer.filters)
        ):
            return None
        return enqueuer


def _use_access_logger() -> None:
    """Give the existing `uvicorn.access` logger `AccessLogger`'s `info`. Its class is
    switched in place (the subclass adds no state): uvicorn and anything else already
    holding the logger keep the same object, levels and handlers."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if type(logger) is logging.Logger:
        logger.__class__ = AccessLogger


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
    _use_access_logger()
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
