"""The OpenAPI document says what the server does: errors, optional auth, constraints.

Pure document checks (no store); what the server answers is checked against the same
document by tests/beatstream/test_openapi_fuzz.py, and the refusals here by requests.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from beatstream.app import create_app
from beatstream.settings import Settings

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


def test_every_error_is_a_documented_problem(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                if int(status) >= 400 and not (path == "/health/ready" and status == "503"):
                    assert response["content"] == PROBLEM, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/v1/artists/{artist_id}", {"404", "422", "429", "503"}),
        ("delete", "/v1/artists/{artist_id}", {"401", "403", "404", "409", "412", "422"}),
        ("post", "/v1/songs", {"400", "401", "403", "413", "422", "429", "503"}),
        ("get", "/v1/thirdparty/{view}", {"401", "403", "404", "422", "429"}),
        ("post", "/v1/playlists/{playlist_id}/songs", {"409", "412", "413"}),
    ],
)
def test_statuses_follow_what_the_route_does(
    document: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    assert statuses <= set(operation(document, method, path)["responses"])


def test_a_year_in_the_path_cannot_be_missing(document: dict[str, Any]) -> None:
    assert "404" not in operation(document, "get", "/v1/songs/by-year/{year}")["responses"]


def test_optional_authentication_is_declared_optional(document: dict[str, Any]) -> None:
    assert operation(document, "get", "/v1/playlists/{playlist_id}")["security"] == [
        {},
        {"bearer": []},
    ]
    assert operation(document, "get", "/v1/auth/me")["security"] == [{"bearer": []}]


def test_constraints_the_server_enforces_are_in_the_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["CountryCode"]["pattern"].startswith("^(?:A[D")
    assert schemas["ListenerCreate"]["properties"]["country"]["$ref"].endswith("/CountryCode")
    song = schemas["SongCreate"]["properties"]["views_per_country"]
    assert song["propertyNames"] == {"$ref": "#/components/schemas/CountryCode"}
    view = operation(document, "get", "/v1/thirdparty/{view}")["parameters"][0]
    assert view["schema"]["enum"] == ["listener_actions", "subscriptions_by_month", "play_stats"]
    if_match = next(
        p
        for p in operation(document, "patch", "/v1/songs/{song_id}")["parameters"]
        if p["name"] == "if-match"
    )
    assert if_match["schema"]["pattern"] == r'^\s*(\*|(W/)?"[0-9]{1,18}")\s*$'
    scopes = schemas["ApiKeyCreate"]["properties"]["scopes"]["items"]
    assert "views:read" in scopes["enum"]
    assert schemas["ListenerCreate"]["properties"]["year_of_birth"]["maximum"] >= 2026


def test_patch_bodies_are_not_nullable(document: dict[str, Any]) -> None:
    update = document["components"]["schemas"]["ListenerUpdate"]
    assert update["minProperties"] == 1
    assert update["properties"]["country"]["$ref"].endswith("/CountryCode")
    assert update["properties"]["consent_to_share_data"] == {
        "type": "boolean",
        "title": "Consent To Share Data",
    }


async def test_what_the_schema_refuses_the_server_refuses(client: httpx.AsyncClient) -> None:
    """Each of these got past the old schema's silence: a mixed-case country, an ETag
    of non-ASCII digits or past int64 (500s before), a comma list of scopes."""
    assert (await client.get("/v1/songs", params={"country": "iT"})).status_code == 422
    artist = await client.post("/v1/artists", json={"name": "A", "country": "IT"})
    for etag in ('"²"', '"' + "9" * 19 + '"'):
        patched = await client.patch(
            f"/v1/artists/{artist.json()['id']}",
            json={"name": "x"},
            headers={"If-Match": etag.encode("latin-1")},
        )
        assert patched.status_code == 422, etag
        assert patched.json()["errors"][0]["field"] == "if-match"
    keys = await client.post(
        "/v1/admin/keys", json={"name": "a", "scopes": ["views:read,views:read:play_stats"]}
    )
    assert keys.status_code == 422
