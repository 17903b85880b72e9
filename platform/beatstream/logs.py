"""Structured logging: one JSON object per line, every line tagged with its request id.

Passwords never reach a log line: the formatter redacts URL credentials in the
message and in any exception text. Uvicorn's loggers are routed through the same
handler so access logs, errors and ours share one format.
"""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

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


def logging_config(settings: LogSettings) -> dict[str, Any]:
    """A `dictConfig` for the whole process; uvicorn applies it in every worker too."""
    formatter = JsonFormatter if settings.format == "json" else ConsoleFormatter
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
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
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
