from __future__ import annotations

import logging
import sys

import orjson

from beatstream.logs import JsonFormatter, RequestIdFilter, StartupFailureFilter, request_id_var


def _record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("redis://:hunter2@cache:6379 refused")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(
        "beatstream.test", logging.WARNING, __file__, 1, message, args, exc_info
    )


def test_json_lines_carry_the_request_id_and_redact_passwords() -> None:
    record = _record("connecting to %s", "mongodb://u:topsecret@db:27017", exc=True)
    token = request_id_var.set("req-7")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)

    line = JsonFormatter().format(record)
    payload = orjson.loads(line)

    assert "\n" not in line
    assert payload["request_id"] == "req-7"
    assert payload["level"] == "warning"
    assert payload["msg"] == "connecting to mongodb://u:***@db:27017"
    assert "hunter2" not in payload["exc"]
    assert "topsecret" not in line


def test_startup_traceback_of_an_unreachable_store_is_dropped() -> None:
    """The lifespan already logged one clear line; other tracebacks are kept."""
    store_down = _record(
        'Traceback (most recent call last):\n  File "x.py", line 1\n'
        "beatstream.errors.StoreUnavailableError: redis unreachable: boom"
    )
    real_bug = _record("Traceback (most recent call last):\nKeyError: 'x'")

    assert StartupFailureFilter().filter(store_down) is False
    assert StartupFailureFilter().filter(real_bug) is True
