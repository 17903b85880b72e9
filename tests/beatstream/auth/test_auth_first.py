"""Authentication before validation: a request without usable credentials learns only
that it needs some (401), never what a valid request would look like (422).

The routes are read from the app and classified by the security their OpenAPI
operation declares (bearer or partner API key), not by the mechanism under test, so
a new protected route is covered the day it is added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from beatstream.app import create_app
from beatstream.settings import Settings
from tests.fixtures.tokens import TEST_SECURITY

# Routes that read a token when one is sent, and serve anonymous callers otherwise.
OPTIONAL_TOKEN = {"GET /v1/playlists/{playlist_id}"}
BODY_METHODS = {"POST", "PUT", "PATCH"}
# Well-formed stand-ins for path parameters, for the variants that break something else.
WELL_FORMED = {"position": "0", "year": "2020", "view": "listeners"}
OBJECT_ID = "6650f1c2a1b2c3d4e5f60720"


@dataclass(frozen=True)
class Protected:
    method: str
    path: str
    scheme: str  # "bearer" or "APIKeyHeader"

    def url(self, *, malformed_path: bool = False) -> str:
        def fill(match: re.Match[str]) -> str:
            if malformed_path:
                return "not-valid"
            return WELL_FORMED.get(match[1], OBJECT_ID)

        return re.sub(r"\{(\w+)\}", fill, self.path)


def protected_routes() -> list[Protected]:
    spec = create_app(Settings(security=TEST_SECURITY)).openapi()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for requirement in operation.get("security", []):
                for scheme in requirement:
                    found.append(Protected(method.upper(), path, scheme))
    return sorted(found, key=lambda p: (p.path, p.method))


PROTECTED = protected_routes()
REQUIRED = [p for p in PROTECTED if f"{p.method} {p.path}" not in OPTIONAL_TOKEN]


def test_the_routes_are_found_and_both_schemes_are_among_them() -> None:
    assert {p.scheme for p in REQUIRED} == {"bearer", "APIKeyHeader"}
    assert len(REQUIRED) > 30
    assert {f"{p.method} {p.path}" for p in PROTECTED} >= OPTIONAL_TOKEN


def malformed_requests(route: Protected) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each kind of bad input on its own: a path parameter, an operator-shaped query
    key with an out-of-range value, and (for methods with a body) broken JSON."""
    variants: dict[str, tuple[str, dict[str, Any]]] = {
        "query": (route.url() + "?$where=1&limit=-5&cursor=" + "x" * 2000, {}),
    }
    if "{" in route.path:
        variants["path"] = (route.url(malformed_path=True), {})
    if route.method in BODY_METHODS:
        variants["body"] = (
            route.url(),
            {"content": b'{"name": ', "headers": {"Content-Type": "application/json"}},
        )
        variants["wrong-body"] = (route.url(), {"json": {"unexpected": [1, 2, 3]}})
    return variants


def bad_credentials(route: Protected) -> dict[str, dict[str, str]]:
    if route.scheme == "bearer":
        return {
            "anonymous": {},
            "garbage-token": {"Authorization": "Bearer not.a.token"},
            "not-bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
        }
    return {"anonymous": {}, "unknown-key": {"X-API-Key": "bsk_0123456789abcdef_nope"}}


@pytest.mark.parametrize("route", REQUIRED, ids=lambda r: f"{r.method} {r.path}")
async def test_without_credentials_malformed_input_is_a_401(
    route: Protected, anon_client: httpx.AsyncClient
) -> None:
    """Every kind of bad input, from every kind of caller without valid credentials."""
    challenge = "Bearer" if route.scheme == "bearer" else "ApiKey"
    wrong: list[str] = []
    for variant, (url, kwargs) in malformed_requests(route).items():
        for caller, credentials in bad_credentials(route).items():
            headers = {**kwargs.get("headers", {}), **credentials}
            sent = {k: v for k, v in kwargs.items() if k != "headers"}
            response = await anon_client.request(route.method, url, headers=headers, **sent)
            if (
                response.status_code != 401
                or response.headers["content-type"] != "application/problem+json"
                or not response.headers["WWW-Authenticate"].startswith(challenge)
            ):
                wrong.append(f"{variant} as {caller}: {response.status_code} {response.text}")
    assert not wrong, "\n".join(wrong)


async def test_an_optional_token_route_validates_for_anonymous_callers_but_not_bad_tokens(
    anon_client: httpx.AsyncClient,
) -> None:
    anonymous = await anon_client.get("/v1/playlists/not-valid")
    bad_token = await anon_client.get(
        "/v1/playlists/not-valid", headers={"Authorization": "Bearer not.a.token"}
    )

    assert anonymous.status_code == 422, anonymous.text
    assert bad_token.status_code == 401, bad_token.text


async def test_with_valid_credentials_malformed_input_is_still_a_422(
    client: httpx.AsyncClient,
) -> None:
    path = await client.get("/v1/listeners/not-valid")
    query = await client.get("/v1/admin/audit?$where=1")
    body = await client.post(
        "/v1/plays", content=b"{", headers={"Content-Type": "application/json"}
    )

    assert [path.status_code, query.status_code, body.status_code] == [422, 422, 422]
    assert path.json()["errors"][0]["field"] == "listener_id"
    assert query.json()["errors"][0]["field"] == "$where"
