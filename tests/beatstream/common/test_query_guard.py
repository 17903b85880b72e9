"""The operator-key guard on every /v1 query string, on its own and in front of a route.

Through `/v1/songs` the guard is invisible: the song-list model forbids unknown keys
and would answer the same 422 without it. `/v1/artists/{id}` reads no query model,
so there only the guard stands between `?$where=` and a 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from bson import ObjectId
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
        {"field": key, "in": "body", "message": REASON, "type": "value_error"}
    ]


@pytest.mark.parametrize("key", PLAIN_KEYS)
async def test_plain_keys_and_operator_shaped_values_pass(key: str) -> None:
    await reject_operator_query_keys(_request({key: "$uicideboy$", "q": "a.b[$ne]"}))


@pytest.mark.parametrize("key", ["$where", "title[$ne]", "album.title", "x]"])
async def test_a_route_without_a_query_model_still_refuses_operator_keys(
    client: httpx.AsyncClient, key: str
) -> None:
    response = await client.get(f"/v1/artists/{ObjectId()}", params={key: "1"})

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == key


async def test_that_route_ignores_plain_unknown_keys(client: httpx.AsyncClient) -> None:
    """The control: without an operator key the same request reaches the route (404)."""
    response = await client.get(f"/v1/artists/{ObjectId()}", params={"where": "$ne"})

    assert response.status_code == 404, response.text
