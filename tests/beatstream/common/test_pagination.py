from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId

from beatstream.common.pagination import SortSpec, after_cursor, decode_cursor, encode_cursor
from beatstream.errors import InvalidInputError

NEWEST = SortSpec("-created_at", "created_at", descending=True)
BY_TITLE = SortSpec("title", "title", descending=False)


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        (NEWEST, datetime(2026, 1, 5, 10, 0, 0, 123000, tzinfo=UTC)),
        (BY_TITLE, "Hello"),
        (BY_TITLE, 2014),
        (BY_TITLE, None),
    ],
)
def test_cursor_round_trips(sort: SortSpec, value: object) -> None:
    last_id = ObjectId()
    assert decode_cursor(encode_cursor(sort, value, last_id), sort) == (value, last_id)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "eyJzIjoiLWNyZWF0ZWRfYXQifQ",
        "bm90IGpzb24",
        "eyJzIjoidGl0bGUiLCJ2IjpbMV0sImlkIjoieCJ9",
    ],
)
def test_foreign_cursors_are_refused_by_name(cursor: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        decode_cursor(cursor, BY_TITLE)
    assert excinfo.value.field == "cursor"


def test_after_cursor_uses_the_id_as_tie_breaker() -> None:
    last_id = ObjectId()
    assert after_cursor(NEWEST, 5, last_id) == {
        "$or": [{"created_at": {"$lt": 5}}, {"created_at": 5, "_id": {"$lt": last_id}}]
    }
    assert after_cursor(BY_TITLE, "a", last_id)["$or"][0] == {"title": {"$gt": "a"}}
