from __future__ import annotations

import re

import pytest

from beatstream.common.concurrency import (
    IF_MATCH_PATTERN,
    IF_MATCH_VERSION_PATTERN,
    matches_if_none_match,
    parse_if_match,
    representation_etag,
)
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


READ_TAG = representation_etag(3, [("a", 1), ("b", None)])


def test_a_representation_etag_names_the_embedded_versions_in_order() -> None:
    assert re.fullmatch(r'"3-[0-9a-f]{16}"', READ_TAG)
    assert representation_etag(3, [("a", 1), ("b", None)]) == READ_TAG
    others = [[("a", 2), ("b", None)], [("b", None), ("a", 1)], [("a", 1), ("b", 0)], []]
    assert READ_TAG not in {representation_etag(3, embedded) for embedded in others}
    assert not representation_etag(4, [("a", 1), ("b", None)]).startswith('"3-')


@pytest.mark.parametrize(
    "header",
    [None, "*", '"3"', 'W/"12"', READ_TAG, f"W/{READ_TAG}", '"3-0123456789abcdef"'],
)
def test_if_match_of_a_representation_compares_its_version(header: str | None) -> None:
    expected = None if header in (None, "*") else int(header.split('"')[1].split("-")[0])
    assert parse_if_match(header, representation=True) == expected


@pytest.mark.parametrize(
    "header",
    ['"3-"', '"3-0123"', '"3-0123456789ABCDEF"', "3-0123456789abcdef", '"-0123456789abcdef"'],
)
def test_malformed_representation_tags_are_refused(header: str) -> None:
    for representation in (False, True):
        with pytest.raises(InvalidInputError) as refused:
            parse_if_match(header, representation=representation)
        assert refused.value.field == "If-Match"


def test_a_plain_version_if_match_refuses_a_representation_tag() -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_if_match(READ_TAG)
    assert refused.value.extra["errors"][0]["message"] == 'expected an ETag such as "3"'


@pytest.mark.parametrize(
    "header",
    ["*", ' "3" ', 'W/"3"', READ_TAG, '"3-"', "3", '"a"', '"1", "2"', '"' + "9" * 19 + '"'],
)
def test_the_schema_patterns_and_the_parser_agree(header: str) -> None:
    for pattern, representation in ((IF_MATCH_VERSION_PATTERN, False), (IF_MATCH_PATTERN, True)):
        try:
            parse_if_match(header, representation=representation)
            parsed = True
        except InvalidInputError:
            parsed = False
        assert (re.fullmatch(pattern, header) is not None) == parsed, (header, pattern)


def test_if_none_match() -> None:
    assert matches_if_none_match('"4"', 4)
    assert matches_if_none_match('"1", W/"4"', 4)
    assert matches_if_none_match("*", 4)
    assert not matches_if_none_match('"3"', 4)
    assert not matches_if_none_match(None, 4)
