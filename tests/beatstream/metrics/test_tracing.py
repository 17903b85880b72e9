"""Tracing is off unless the standard OTEL_* variables ask for it; on, log lines written
inside a span carry its trace and span ids."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import orjson
import pytest
from opentelemetry.sdk.trace import TracerProvider

from beatstream.logs import JsonFormatter, logging_config
from beatstream.metrics.tracing import TraceIdFilter, tracing_requested
from beatstream.settings import LogSettings


@pytest.mark.parametrize(
    ("environ", "requested"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "beatstream"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_only_an_exporter_turns_tracing_on(environ: dict[str, str], requested: bool) -> None:
    assert tracing_requested(environ) is requested


def test_the_log_config_adds_trace_ids_only_when_tracing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    off = logging_config(LogSettings())
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    on = logging_config(LogSettings())

    assert "trace" not in off["filters"]
    assert "trace" in on["handlers"]["stderr"]["filters"]


def test_a_line_written_in_a_span_names_its_trace() -> None:
    tracer = TracerProvider().get_tracer("test")  # a provider of its own: no global state
    record = logging.LogRecord("beatstream", logging.INFO, __file__, 1, "inside", (), None)
    outside = logging.LogRecord("beatstream", logging.INFO, __file__, 1, "outside", (), None)
    trace_filter = TraceIdFilter()
    with tracer.start_as_current_span("request") as span:
        trace_filter.filter(record)
        context = span.get_span_context()
    trace_filter.filter(outside)

    line = orjson.loads(JsonFormatter().format(record))
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in orjson.loads(JsonFormatter().format(outside))


def test_off_installs_no_provider_and_no_exporter() -> None:
    """Without OTEL_*, no tracer provider is installed and no exporter loaded. (The SDK
    itself may be imported anyway: redis-py's observability module imports it when it
    is installed.)"""
    code = (
        "import sys; from beatstream.app import create_app; create_app();"
        "from opentelemetry import trace;"
        "assert type(trace.get_tracer_provider()).__name__ == 'ProxyTracerProvider';"
        "assert not any(m.startswith('opentelemetry.exporter') for m in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


SPANS = """
import asyncio, httpx
from opentelemetry import trace
from beatstream.app import create_app

async def main() -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        assert (await client.get("/openapi.json")).status_code == 200

asyncio.run(main())
getattr(trace.get_tracer_provider(), "shutdown", lambda: None)()  # flushes the exporter
"""


@pytest.mark.parametrize("exporter", ["console", "none"])
def test_a_request_is_a_server_span_only_when_tracing_is_asked_for(exporter: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_TRACES_EXPORTER"] = exporter
    done = subprocess.run(
        [sys.executable, "-c", SPANS], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert ('"name": "GET /openapi.json"' in done.stdout) is (exporter == "console")
