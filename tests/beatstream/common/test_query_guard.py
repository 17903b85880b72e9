"""The operator-key guard on every /v1 query string, called directly (pure: the
mutation run uses these); test_query_guard_route.py checks it in front of a route."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from starlette.requests import Request

from beatstream.common.query_guard import reject_operator_query_keys
from beatstream.errors import InvalidInputError

OPERATOR_KEYS = ["$where", "$ne", "title[$ne]", "title[", "title]", "a]b", "album.title", "."]
PLAIN_KEYS = ["title", "a$b", "title$", "limit", "sort_by", "x-y"]
REASON = "query keys may not start with '$' or contain '.', '[' or ']'"


def _request(params: dict[str, str]) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/anything",
        "headers": [],
        "query_string": urlencode(params).encode(),
    }
    return Request(scope)


@pytest.mark.parametrize("key", OPERATOR_KEYS)
async def test_operator_shaped_keys_are_refused_naming_the_key(key: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        await reject_operator_query_keys(_request({"limit": "5", key: "1"}))
    assert excinfo.value.field == key
    assert excinfo.value.extra["errors"] == [
        {"field": key, "in": "query", "message": REASON, "type": "value_error"}
    ]


@pytest.mark.parametrize("key", PLAIN_KEYS)
async def test_plain_keys_and_operator_shaped_values_pass(key: str) -> None:
    await reject_operator_query_keys(_request({key: "$uicideboy$", "q": "a.b[$ne]"}))
