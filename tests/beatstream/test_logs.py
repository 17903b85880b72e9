from __future__ import annotations

import logging
import random
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

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
from beatstream.redact import redact_text
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
    """The request's thread only queues an access line (request id and message fixed
    there); formatting, redaction and the write happen in the writer thread."""
    formatted_in: list[str] = []
    original = logs.access_json

    def spy(line: logs.AccessLine) -> str:
        formatted_in.append(threading.current_thread().name)
        return original(line)

    monkeypatch.setattr(logs, "access_json", spy)
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


def _access_info(*, request_id: str | None = "req-1") -> None:
    """uvicorn's call, as its httptools protocol makes it once per request."""
    token = request_id_var.set(request_id)
    try:
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/v1/search/songs?q=a", "1.1", 200
        )
    finally:
        request_id_var.reset(token)


def test_an_access_line_makes_no_log_record_and_is_the_formatters_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-request road: no `LogRecord` on the request's side, and the line written
    is byte for byte what `JsonFormatter` makes of the standard road's record."""
    _restore_logging_switches(monkeypatch)
    made: list[logging.LogRecord] = []
    factory = logging.getLogRecordFactory()

    def counting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made.append(record := factory(*args, **kwargs))
        return record

    monkeypatch.setattr(logging, "_logRecordFactory", counting)
    monkeypatch.setattr(time, "time", lambda: 1_790_000_000.1234)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(LogSettings(level="INFO", format="json"))
        _access_info()
        _access_info(request_id=None)
        made_by_requests = len(made)
        logs._stop_writer()
    finally:
        root.handlers[:], root.level = saved

    written = capsys.readouterr().err.strip().splitlines()[-2:]
    expected = []
    for request_id in ("req-1", None):
        record = logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            "",
            0,
            '127.0.0.1:5 - "GET /v1/search/songs?q=a HTTP/1.1" 200',
            None,
            None,
        )
        record.created = 1_790_000_000.1234
        record.request_id = request_id
        expected.append(JsonFormatter().format(record))
    assert made_by_requests == 0
    assert written == expected


def test_access_lines_take_the_standard_road_when_anything_else_listens(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second handler (a test's capture, say) or the console format gets its records
    as before: the short road is taken only when it leads to the same place."""
    _restore_logging_switches(monkeypatch)
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(LogSettings(level="INFO", format="json"))
        root.addHandler(Collect())
        _access_info()
        root.handlers[:] = root.handlers[:1]
        configure_logging(LogSettings(level="INFO", format="console"))
        _access_info(request_id="req-console")
        logs._stop_writer()
    finally:
        root.handlers[:], root.level = saved

    written = capsys.readouterr().err.strip().splitlines()
    assert [r.getMessage() for r in seen] == [
        '127.0.0.1:5 - "GET /v1/search/songs?q=a HTTP/1.1" 200'
    ]
    assert "[req-console]" in written[-1]


def test_an_access_line_below_the_level_is_not_queued(monkeypatch: pytest.MonkeyPatch) -> None:
    _restore_logging_switches(monkeypatch)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(LogSettings(level="WARNING", format="json"))
        assert logs._writer is not None
        _access_info()
        queued = len(logs._writer.records)
    finally:
        logs._stop_writer()
        root.handlers[:], root.level = saved

    assert queued == 0


@pytest.mark.parametrize(
    "created",
    [
        0.0,
        1_790_000_000.0,
        1_790_000_000.0005,
        1_790_000_000.0009995,
        1_790_000_000.9994999,
        1_790_000_000.9995,
        1_790_000_000.9999994,
        1_790_000_000.9999996,  # rounds into the next second, as fromtimestamp does
        1_790_000_059.9999999,
        1_700_000_123.456789,
    ],
)
def test_timestamps_are_the_datetime_isoformat(created: float) -> None:
    assert logs.iso_ms(created) == datetime.fromtimestamp(created, UTC).isoformat(
        timespec="milliseconds"
    )


def test_timestamps_are_the_datetime_isoformat_for_many_times() -> None:
    rng = random.Random(14)
    for _ in range(20_000):
        created = rng.uniform(1_600_000_000, 1_900_000_000)
        assert logs.iso_ms(created) == datetime.fromtimestamp(created, UTC).isoformat(
            timespec="milliseconds"
        )


def test_a_line_without_a_secret_key_or_url_is_not_scanned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Most access lines (`?q=love&limit=10`) have a `=`, which used to send every one
    through the redaction scanner; it now runs only where a secret can appear."""
    scanned: list[str] = []

    def spy(text: str) -> str:
        scanned.append(text)
        return redact_text(text)

    monkeypatch.setattr(logs, "redact_text", spy)
    plain = '127.0.0.1:5 - "GET /v1/search/songs?q=love&limit=10 HTTP/1.1" 200'
    secret = '127.0.0.1:5 - "GET /v1/x?Api_Key=abc HTTP/1.1" 200'

    assert logs.clean(plain) == plain
    assert logs.clean(secret) == '127.0.0.1:5 - "GET /v1/x?Api_Key=*** HTTP/1.1" 200'
    assert scanned == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "?password=x",
        "?PassWd=x",
        "&pwd=x",
        ";PASS=x",
        "?secret=x",
        "?Token=x",
        "?api_key=x",
        "?APIKEY=x",
        "?access_key=x",
        "redis://:pw@host",
        "?pa\u017f\u017f=x",  # long s: matched as `s` case-insensitively
        "?api_\u212aey=x",  # Kelvin sign: matched as `k`
    ],
)
def test_every_text_redaction_changes_may_hold_a_secret(text: str) -> None:
    assert redact_text(text) != text
    assert logs.may_hold_secret(text)


def test_texts_said_to_hold_no_secret_are_left_unchanged_by_redaction() -> None:
    """`may_hold_secret` may only say False where the scanner would change nothing."""
    rng = random.Random(7)
    alphabet = "abcdekmnoprstwyAKPSTW_=&?;:/@%.-0123456789 "
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        if not logs.may_hold_secret(text):
            assert redact_text(text) == text, text
