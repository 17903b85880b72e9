from __future__ import annotations

import logging
import sys
import threading

import orjson
import pytest

from beatstream import logs
from beatstream.logs import (
    JsonFormatter,
    RequestIdFilter,
    StartupFailureFilter,
    configure_logging,
    request_id_var,
)
from beatstream.settings import LogSettings


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


def _restore_logging_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    """`queued_stderr` turns off logging's caller lookup process-wide: undone after the test."""
    for name in ("_srcfile", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, name, getattr(logging, name))


def test_records_are_formatted_and_written_by_the_writer_thread(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request's thread only queues an access record (request id and message fixed
    there); formatting, redaction and the write happen in the writer thread."""
    formatted_in: list[str] = []
    original = JsonFormatter.format

    def spy(self: JsonFormatter, record: logging.LogRecord) -> str:
        formatted_in.append(threading.current_thread().name)
        return original(self, record)

    monkeypatch.setattr(JsonFormatter, "format", spy)
    _restore_logging_switches(monkeypatch)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(LogSettings(level="INFO", format="json"))
        args = ["mongodb://u:topsecret@db"]
        token = request_id_var.set("req-9")
        try:
            logging.getLogger("uvicorn.access").info("at %s", args)
        finally:
            request_id_var.reset(token)
        args[0] = "changed after the call"
        logs._stop_writer()  # drains the queue, joins the writer
    finally:
        root.handlers[:], root.level = saved

    payload = orjson.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert payload["request_id"] == "req-9"
    assert payload["msg"] == "at ['mongodb://u:***@db']"
    assert formatted_in
    assert threading.main_thread().name not in formatted_in


def test_any_other_record_is_written_at_once_after_the_queued_access_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uvicorn ends a SIGTERMed process by re-raising the signal (no `atexit`): its last
    lines, written at once, must carry out every access line queued before them."""
    _restore_logging_switches(monkeypatch)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(LogSettings(level="INFO", format="json"))
        logging.getLogger("uvicorn.access").info("GET /a")
        logging.getLogger("uvicorn.error").info("Finished server process")
        written = capsys.readouterr().err.strip().splitlines()
    finally:
        logs._stop_writer()
        root.handlers[:], root.level = saved

    assert [orjson.loads(line)["msg"] for line in written[-2:]] == [
        "GET /a",
        "Finished server process",
    ]
