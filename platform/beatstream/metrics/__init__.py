"""Prometheus metrics and optional OpenTelemetry tracing (docs/observability.md).

Infrastructure: it imports no domain. Domains and the cache call its counters; the
app wires its middleware and the stores their instrumented clients.
"""
