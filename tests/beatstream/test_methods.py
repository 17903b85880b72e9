"""HTTP method semantics on every route: a complete `Allow`, HEAD wherever GET, OPTIONS,
and literal path segments never captured by a parameter route.

The walk covers every route the app has, so a route added later is checked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.convertors import IntegerConvertor

from beatstream.app import create_app
from beatstream.methods import TemplateIndex, owner, path_templates
from beatstream.settings import Settings

SAMPLE_ID = "6650f1c2a1b2c3d4e5f60718"
ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Headers whose value may differ between two GETs as well (a cache hit adds `Age`).
VOLATILE = {"date", "x-request-id", "ratelimit-remaining", "ratelimit-reset", "x-cache", "age"}


@dataclass
class Template:
    path_format: str
    sample: str
    declared: set[str]

    @property
    def allow(self) -> list[str]:
        served = self.declared | {"OPTIONS"} | ({"HEAD"} if "GET" in self.declared else set())
        return [m for m in ORDER if m in served]


def _sample(route: object) -> str:
    """The route's path with a value in each parameter its convertor accepts."""
    convertors = getattr(route, "param_convertors", {})
    path_format: str = getattr(route, "path_format", "")

    def value(match: re.Match[str]) -> str:
        return "1" if isinstance(convertors.get(match[1]), IntegerConvertor) else SAMPLE_ID

    return re.sub(r"\{(\w+)\}", value, path_format)


def _routes(app: FastAPI) -> list[object]:
    return [r for r in iter_route_contexts(app.routes) if r.methods and r.path_format]


def _templates(app: FastAPI) -> list[Template]:
    templates: dict[str, Template] = {}
    for route in _routes(app):
        template = templates.setdefault(
            route.path_format, Template(route.path_format, _sample(route), set())
        )
        template.declared |= set(route.methods or ())
    return list(templates.values())


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


def _allow(response: httpx.Response) -> list[str]:
    return [m.strip() for m in response.headers["allow"].split(",")]


async def test_the_reported_cases(client: httpx.AsyncClient) -> None:
    options = await client.options("/v1/songs")
    assert options.status_code == 204
    assert _allow(options) == ["GET", "HEAD", "POST", "OPTIONS"]

    patch = await client.patch("/v1/songs/by-artist", json={"genre": "pop"})
    assert patch.status_code == 405, patch.text
    assert _allow(patch) == ["GET", "HEAD", "OPTIONS"]
    assert patch.headers["content-type"] == "application/problem+json"
    assert patch.json()["type"].endswith("/method-not-allowed")

    head = await client.head("/v1/songs")
    get = await client.get("/v1/songs")
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]

    move = await client.delete(f"/v1/playlists/{SAMPLE_ID}/songs/move")
    assert move.status_code == 405
    assert _allow(move) == ["POST", "OPTIONS"]


async def test_every_path_answers_unsupported_methods_with_its_complete_allow(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for template in _templates(app):
        options = await client.options(template.sample)
        assert options.status_code == 204, template.path_format
        assert _allow(options) == template.allow, template.path_format
        for method in ["POST", "PUT", "PATCH", "DELETE", "HEAD"]:
            if method in template.allow:
                continue
            response = await client.request(method, template.sample)
            assert response.status_code == 405, (method, template.path_format, response.text)
            assert _allow(response) == template.allow, (method, template.path_format)


async def test_head_answers_wherever_get_does_with_the_same_headers_and_no_body(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    checked = 0
    for template in _templates(app):
        if "GET" not in template.declared:
            continue
        get = await client.get(template.sample)
        head = await client.head(template.sample)
        assert head.status_code == get.status_code, template.path_format
        assert head.content == b"", template.path_format
        stable_get = {k: v for k, v in get.headers.items() if k not in VOLATILE}
        stable_head = {k: v for k, v in head.headers.items() if k not in VOLATILE}
        assert stable_head == stable_get, template.path_format
        checked += 1
    assert checked > 20


def test_no_literal_path_is_captured_by_a_parameter_route(app: FastAPI) -> None:
    """For every route and method, the route the router picks for a path of that route's
    own shape is that route (`/songs/by-artist` is never `/songs/{song_id}`), whatever
    the method: literal siblings come first, or the parameter cannot match them."""
    routes = _routes(app)
    for template in _templates(app):
        for method in template.declared:
            chosen = next(
                r
                for r in routes
                if r.path_regex.match(template.sample) and method in (r.methods or ())
            )
            assert chosen.path_format == template.path_format, (method, template.sample)


async def test_literal_siblings_refuse_their_parameter_siblings_methods(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """`PATCH /v1/songs/by-artist` is a 405 from the literal route, not a song update."""
    templates = _templates(app)
    probed = 0
    for literal in templates:
        for other in templates:
            if other is literal or not re.fullmatch(
                re.sub(r"\{\w+\}", "[^/]+", other.path_format), literal.sample
            ):
                continue
            for method in other.declared - set(literal.allow):
                response = await client.request(method, literal.sample)
                assert response.status_code == 405, (method, literal.sample, response.text)
                assert _allow(response) == literal.allow
                probed += 1
    assert probed > 0


def test_the_index_finds_the_owner_a_scan_finds() -> None:
    app = create_app(Settings(_env_file=None))
    templates = path_templates(app.routes)
    index = TemplateIndex(templates)
    paths = [t.sample for t in _templates(app)] + ["/", "/nope", "/v1", "/v1/nope/x", "/health"]

    for path in paths:
        assert index.owner(path) is owner(templates, path), path


def test_a_song_lookup_does_not_grow_with_the_routes_elsewhere() -> None:
    app = create_app(Settings(_env_file=None))
    song = f"/v1/songs/{SAMPLE_ID}"
    before = TemplateIndex(path_templates(app.routes)).candidates(song)
    for n in range(100):
        app.add_api_route(f"/v1/extra{n}/{{item_id}}", _sample_endpoint)
    after = TemplateIndex(path_templates(app.routes)).candidates(song)

    assert [t.path_format for t in after] == [t.path_format for t in before]
    assert len(before) < len(path_templates(app.routes)) / 10


async def _sample_endpoint(item_id: str) -> str:
    return item_id
