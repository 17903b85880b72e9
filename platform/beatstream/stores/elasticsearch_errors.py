"""Elasticsearch unreachable or overloaded -> 503 with Retry-After, never a 500 or a hang.

Every route that queries Elasticsearch (search, analytics) wraps its queries in this.
Other API errors (a 400 for a malformed query) are bugs and stay 500s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from elastic_transport import ConnectionError as EsConnectionError
from elastic_transport import ConnectionTimeout, SniffingError
from elasticsearch import ApiError

from beatstream.errors import StoreUnavailableError
from beatstream.redact import redact_text

UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})


@contextlib.contextmanager
def elasticsearch_unavailable_as_503(safe_url: str) -> Iterator[None]:
    try:
        yield
    except (EsConnectionError, ConnectionTimeout, SniffingError) as exc:
        reason = redact_text(f"{type(exc).__name__}: {exc}")[:200]
        raise StoreUnavailableError("elasticsearch", safe_url, reason) from None
    except ApiError as exc:
        if exc.meta.status not in UNAVAILABLE_STATUSES:
            raise
        reason = redact_text(f"HTTP {exc.meta.status}: {exc.message}")[:200]
        raise StoreUnavailableError("elasticsearch", safe_url, reason) from None
