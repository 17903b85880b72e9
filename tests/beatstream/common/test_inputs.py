from __future__ import annotations

import pytest

from beatstream.common.concurrency import matches_if_none_match, parse_if_match
from beatstream.common.inputs import find_operator_key
from beatstream.errors import InvalidInputError


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ({"title": "x"}, None),
        ({"title": {"$ne": None}}, "title.$ne"),
        ({"a": [{"ok": 1}, {"b.c": 2}]}, "a[1].b.c"),
        ([{"$where": "1"}], "[0].$where"),
        ({"text": "$100 and a.dot in a value"}, None),
    ],
)
def test_find_operator_key(value: object, found: str | None) -> None:
    assert find_operator_key(value) == found


@pytest.mark.parametrize(
    ("header", "expected"), [(None, None), ("*", None), ('"3"', 3), ('W/"12"', 12)]
)
def test_if_match_parses(header: str | None, expected: int | None) -> None:
    assert parse_if_match(header) == expected


@pytest.mark.parametrize("header", ["3", '"a"', '"1", "2"', '""'])
def test_malformed_if_match_is_refused(header: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_if_match(header)


def test_if_none_match() -> None:
    assert matches_if_none_match('"4"', 4)
    assert matches_if_none_match('"1", W/"4"', 4)
    assert matches_if_none_match("*", 4)
    assert not matches_if_none_match('"3"', 4)
    assert not matches_if_none_match(None, 4)
