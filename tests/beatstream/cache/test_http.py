"""A cached answer's HTTP side: `If-None-Match` and the headers downstream caches get."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from beatstream.cache.http import cache_headers, not_modified
from beatstream.cache.store import CachedResponse

BODY = b'{"hits":[{"id":"s1"}],"total":1}'


def response(status: str, stored_at: datetime | None = None) -> CachedResponse:
    return CachedResponse(BODY, status, '"abc"', stored_at or datetime.now(UTC))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"xyz", "abc"', True),
        ("*", True),
        ('"xyz"', False),
        ("abc", False),
    ],
)
def test_not_modified(header: str | None, expected: bool) -> None:
    assert not_modified(header, response("hit")) is expected


def test_cache_headers_keep_downstream_copies_short_whatever_the_ttl() -> None:
    """An hour in Redis is safe (invalidation bumps it); downstream it must not be."""
    stored_long_ago = datetime.now(UTC) - timedelta(seconds=900)
    for status in ("miss", "bypass", "hit"):
        assert cache_headers(response(status, stored_long_ago), 3600) == {
            "X-Cache": status,
            "ETag": '"abc"',
            "Cache-Control": "public, max-age=10, stale-while-revalidate=30",
        }
    short = cache_headers(response("miss"), 5)["Cache-Control"]
    assert short == "public, max-age=5, stale-while-revalidate=30"
