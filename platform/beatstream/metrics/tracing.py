"""Optional OpenTelemetry tracing, switched on by the standard `OTEL_*` variables.

Off unless an exporter is asked for (`OTEL_TRACES_EXPORTER` other than `none`, or an
`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`), and never with `OTEL_SDK_DISABLED=true`. Off,
this module imports nothing of OpenTelemetry and installs no provider. On, it sets the
process's tracer provider (the `otel` extra: `pip install 'beatstream[otel]'`); FastAPI
then opens a server span per request (named by its route template) and the
Elasticsearch client a span per call, both through the global provider. Everything
else is the SDK's own reading of the environment: `OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, the exporter's endpoint, headers
and timeouts.

With tracing on, every JSON log line written inside a span carries its `trace_id` and
`span_id` (`TraceIdFilter`), so a log search leads to the trace and back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

logger = logging.getLogger(__name__)

_configured = False


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER")
    if exporter is not None:
        return exporter.strip().lower() not in {"", "none"}
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def configure_tracing(environ: Mapping[str, str] = os.environ) -> bool:
    """Install the tracer provider once per process when asked for; whether tracing is on.

    A missing extra is a warning, not a failure: tracing is an aid, the API works
    without it.
    """
    global _configured  # one provider per process, set once
    if _configured or not tracing_requested(environ):
        return _configured
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SpanExporter,
        )
    except ImportError:
        logger.warning("OTEL_* asks for traces but the 'otel' extra is not installed")
        return False
    names = {
        name.strip().lower()
        for name in environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")
        if name.strip()
    }
    exporters: list[SpanExporter] = []
    if "console" in names:
        exporters.append(ConsoleSpanExporter())
    if "otlp" in names:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            logger.warning("OTEL_TRACES_EXPORTER=otlp needs the 'otel' extra; not exporting")
        else:
            exporters.append(OTLPSpanExporter())
    provider = TracerProvider()
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True
    logger.info("tracing on", extra={"exporters": sorted(names)})
    return True


class TraceIdFilter(logging.Filter):
    """Adds `trace_id` and `span_id` (hex, as tracing back-ends show them) to a record
    written inside a recording span. Only installed with tracing on, so the API is
    imported only then."""

    def __init__(self) -> None:
        super().__init__()
        from opentelemetry import trace

        self._current_span = trace.get_current_span

    def filter(self, record: logging.LogRecord) -> bool:
        context = self._current_span().get_span_context()
        if context.is_valid:
            record.trace_id = f"{context.trace_id:032x}"
            record.span_id = f"{context.span_id:016x}"
        return True
