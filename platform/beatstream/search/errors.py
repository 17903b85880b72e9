"""Elasticsearch unreachable -> 503 with Retry-After, never a 500 or a hung request."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from elastic_transport import ConnectionError as EsConnectionError
from elastic_transport import ConnectionTimeout

from beatstream.errors import StoreUnavailableError
from beatstream.redact import redact_text


@contextlib.contextmanager
def elasticsearch_unavailable_as_503(safe_url: str) -> Iterator[None]:
    try:
        yield
    except (EsConnectionError, ConnectionTimeout) as exc:
        reason = redact_text(f"{type(exc).__name__}: {exc}")[:200]
        raise StoreUnavailableError("elasticsearch", safe_url, reason) from None
