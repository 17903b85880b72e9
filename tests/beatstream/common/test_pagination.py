from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from beanie import SortDirection
from bson import ObjectId

from beatstream.common.pagination import (
    SortSpec,
    after_cursor,
    decode_cursor,
    encode_cursor,
    field_value,
)
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
    assert excinfo.value.extra["errors"][0]["in"] == "query"


def test_after_cursor_uses_the_id_as_tie_breaker() -> None:
    last_id = ObjectId()
    assert after_cursor(NEWEST, 5, last_id) == {
        "$or": [{"created_at": {"$lt": 5}}, {"created_at": 5, "_id": {"$lt": last_id}}]
    }
    assert after_cursor(BY_TITLE, "a", last_id)["$or"][0] == {"title": {"$gt": "a"}}


# Fixed vectors: a round trip alone passes for any self-consistent encoding, so the
# exact cursor a client holds is pinned (cursors issued before an upgrade must still work).

VECTOR_ID = ObjectId("65a1b2c3d4e5f60718293a4b")


@pytest.mark.parametrize(
    ("sort", "value", "cursor"),
    [
        (
            NEWEST,
            datetime(2026, 1, 5, 10, 0, 0, 123000, tzinfo=UTC),
            "eyJzIjoiLWNyZWF0ZWRfYXQiLCJ2Ijp7ImR0IjoiMjAyNi0wMS0wNVQxMDowMDowMC4xMjMwMDArMDA6MDAifS"
            "wiaWQiOiI2NWExYjJjM2Q0ZTVmNjA3MTgyOTNhNGIifQ",
        ),
        (
            BY_TITLE,
            "Hello",
            "eyJzIjoidGl0bGUiLCJ2IjoiSGVsbG8iLCJpZCI6IjY1YTFiMmMzZDRlNWY2MDcxODI5M2E0YiJ9",
        ),
    ],
)
def test_cursor_matches_its_fixed_vector(sort: SortSpec, value: object, cursor: str) -> None:
    assert encode_cursor(sort, value, VECTOR_ID) == cursor
    assert decode_cursor(cursor, sort) == (value, VECTOR_ID)


@pytest.mark.parametrize("title", ["a", "ab", "abc", "abcd", "ü" * 7, "x" * 40])
def test_cursors_of_every_padding_length_round_trip_unpadded(title: str) -> None:
    cursor = encode_cursor(BY_TITLE, title, VECTOR_ID)
    assert "=" not in cursor
    assert decode_cursor(cursor, BY_TITLE) == (title, VECTOR_ID)


@pytest.mark.parametrize("value", [1.5, 0, True, -3])
def test_numbers_round_trip_with_their_type(value: float) -> None:
    decoded, _ = decode_cursor(encode_cursor(BY_TITLE, value, VECTOR_ID), BY_TITLE)
    assert decoded == value
    assert type(decoded) is type(value)


def _forged(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def test_a_cursor_of_another_sort_is_refused_naming_the_sort() -> None:
    cursor = encode_cursor(NEWEST, datetime(2026, 1, 5, tzinfo=UTC), VECTOR_ID)
    with pytest.raises(InvalidInputError) as excinfo:
        decode_cursor(cursor, BY_TITLE)
    assert excinfo.value.field == "cursor"
    assert excinfo.value.extra["errors"][0]["in"] == "query"
    assert excinfo.value.extra["errors"][0]["message"] == (
        "this cursor belongs to sort '-created_at'"
    )


@pytest.mark.parametrize(
    "payload",
    [
        b'{"s":"title","v":{"x":1},"id":"65a1b2c3d4e5f60718293a4b"}',
        b'{"s":"title","v":{"dt":"yesterday"},"id":"65a1b2c3d4e5f60718293a4b"}',
        b'{"s":"title","v":"a","id":"not-an-object-id"}',
        b'{"s":"title","v":"a"}',
        b'{"v":"a","id":"65a1b2c3d4e5f60718293a4b"}',
        b'["title","a"]',
        b"\xff\xfe",
    ],
)
def test_malformed_payloads_are_refused_as_foreign(payload: bytes) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        decode_cursor(_forged(payload), BY_TITLE)
    assert excinfo.value.field == "cursor"
    assert excinfo.value.extra["errors"][0]["message"] == "not a cursor this API issued"
    assert excinfo.value.extra["errors"][0]["in"] == "query"


def test_sorts_order_by_their_field_then_id_in_one_direction() -> None:
    assert NEWEST.mongo_sort == [
        ("created_at", SortDirection.DESCENDING),
        ("_id", SortDirection.DESCENDING),
    ]
    assert BY_TITLE.mongo_sort == [
        ("title", SortDirection.ASCENDING),
        ("_id", SortDirection.ASCENDING),
    ]


def test_after_cursor_ascending_is_strictly_greater_on_both() -> None:
    assert after_cursor(BY_TITLE, "a", VECTOR_ID) == {
        "$or": [{"title": {"$gt": "a"}}, {"title": "a", "_id": {"$gt": VECTOR_ID}}]
    }


def test_field_value_follows_dotted_paths_through_mappings_and_attributes() -> None:
    class Album:
        title = "Blue"

    document = {"album": Album(), "stats": {"plays": {"total": 7}}, "name": "x"}
    assert field_value(document, "name") == "x"
    assert field_value(document, "stats.plays.total") == 7
    assert field_value(document, "album.title") == "Blue"
    assert field_value(document, "album.missing") is None
    assert field_value(document, "stats.missing.total") is None
