"""A 422's `in` names where the bad value came from: the query, the path, a header or the body."""

from __future__ import annotations

from typing import Annotated, Any, Self

import httpx
import pytest
from fastapi import Query
from pydantic import model_validator

from beatstream.app import create_app
from beatstream.common.inputs import InputModel
from beatstream.errors import InvalidInputError
from beatstream.settings import Settings
from tests.fixtures.app import running

MISSING_ID = "6650f1c2a1b2c3d4e5f60718"
SONG = {
    "title": "T",
    "genre": "funk",
    "duration_s": 270,
    "album": {"title": "A", "release_year": 2014},
}


@pytest.mark.parametrize(
    ("method", "path", "params", "headers", "body", "field", "where"),
    [
        # FastAPI's own validation (RequestValidationError)
        ("GET", "/v1/songs", {"limit": "0"}, None, None, "limit", "query"),
        ("GET", "/v1/admin/audit", {"since": "yesterday"}, None, None, "since", "query"),
        ("GET", "/v1/songs/not-an-id", None, None, None, "song_id", "path"),
        ("POST", "/v1/songs", None, None, {**SONG, "artist_id": "x"}, "artist_id", "body"),
        # Checks the application makes after validation (InvalidInputError)
        ("GET", "/v1/songs", {"$where": "1"}, None, None, "$where", "query"),
        ("GET", "/v1/songs", {"cursor": "garbage"}, None, None, "cursor", "query"),
        (
            "GET",
            "/v1/songs",
            {"year_from": 2020, "year_to": 2010},
            None,
            None,
            "year_from",
            "query",
        ),
        # An album id doubles as the album list's cursor: a bad one is named as such.
        ("GET", "/v1/albums", {"cursor": "not-an-album"}, None, None, "cursor", "query"),
        ("POST", "/v1/songs", None, None, {**SONG, "artist_id": MISSING_ID}, "artist_id", "body"),
    ],
)
async def test_the_location_of_an_invalid_value_is_named(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    params: dict[str, Any] | None,
    headers: dict[str, str] | None,
    body: dict[str, Any] | None,
    field: str,
    where: str,
) -> None:
    response = await client.request(method, path, params=params, headers=headers, json=body)

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["in"]) == (field, where)


async def test_a_bad_header_is_named_as_a_header(client: httpx.AsyncClient, make_song: Any) -> None:
    song = await make_song()

    response = await client.patch(
        f"/v1/songs/{song['id']}", headers={"If-Match": "3"}, json={"genre": "pop"}
    )

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    # Header names are case-insensitive (RFC 9110): the name, not its spelling.
    assert (error["field"].lower(), error["in"]) == ("if-match", "header")


def test_an_application_check_must_say_where_its_input_came_from() -> None:
    """No default: a new check that forgets the location is a type error, not a silent "body"."""
    error = InvalidInputError("cursor", "not a cursor this API issued", location="query")

    assert error.extra["errors"] == [
        {
            "field": "cursor",
            "in": "query",
            "message": "not a cursor this API issued",
            "type": "value_error",
        }
    ]
    with pytest.raises(TypeError):
        InvalidInputError("cursor", "no location")  # type: ignore[call-arg]


class _Range(InputModel):
    low: int = 0
    high: int = 0

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


async def test_a_check_on_a_whole_query_model_is_named_as_the_query(settings: Settings) -> None:
    """Not `{"field": "body", "in": "query"}`: nothing in the body was wrong."""
    app = create_app(settings)

    @app.get("/_test/range")
    async def ranged(query: Annotated[_Range, Query()]) -> dict[str, int]:
        return query.model_dump()

    async with running(app) as http:
        response = await http.get("/_test/range", params={"low": 2, "high": 1})

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["in"]) == ("query", "query")
