"""The OpenAPI document, completed from what each route really does.

FastAPI documents a route's success answer and a generic 422; the errors the API
actually answers come from its dependencies (a bearer token: 401; a role: 403; a
path id: 404; `If-Match`: 412; a body: 413; the rate limiter: 429; the stores: 503)
and from middleware, none of which FastAPI sees. Rather than each router repeating
them (and drifting), `install_openapi` derives them here from the route's dependency
tree, once, when the document is first built, and gives every error response its
real media type and shape: RFC 9457 `application/problem+json` (`ProblemDetails`).

Statuses a route declares itself (`responses=` on the router) are kept and given the
problem shape too; only what a service raises from deep inside (409 conflicts) is
named per operation below, checked against the routes so a renamed path fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from beatstream.auth.dependencies import current_principal, optional_principal
from beatstream.common.countries import COUNTRY_PATTERN
from beatstream.common.query_guard import reject_operator_query_keys
from beatstream.partners.dependencies import authenticated_partner
from beatstream.problems import PROBLEM_MEDIA_TYPE
from beatstream.ratelimit import EXEMPT_PREFIXES

OpenApi = dict[str, Any]
PROBLEM_REF = "#/components/schemas/ProblemDetails"
COUNTRY_REF = "#/components/schemas/CountryCode"


class ProblemField(BaseModel):
    """One offending input: where it was and what was wrong with it."""

    field: str = Field(description="The field path: `limit`, `events[3].song_id`, `If-Match`.")
    in_: str = Field(alias="in", description="Where the field was: body, query, path, header.")
    message: str
    type: str = Field(description="A machine-readable error kind (`missing`, `value_error`...).")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: the body of every 4xx and 5xx answer."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str = Field(description="The request path.")
    request_id: str | None = Field(
        default=None, description="Quote it when reporting a problem; also `X-Request-ID`."
    )
    errors: list[ProblemField] | None = Field(
        default=None, description="For 422 (and some 403): each offending field."
    )


# Conflicts a service raises (`ConflictError`), which no dependency shows.
CONFLICTS: dict[tuple[str, str], str] = {
    ("DELETE", "/v1/artists/{artist_id}"): "The artist still has songs",
    ("POST", "/v1/playlists/{playlist_id}/songs"): "The playlist is full",
    ("DELETE", "/v1/playlists/{playlist_id}/songs/{position}"): (
        "The playlist kept changing while the edit was retried; try again"
    ),
    ("POST", "/v1/playlists/{playlist_id}/songs/move"): (
        "The playlist kept changing while the edit was retried; try again"
    ),
}

DESCRIPTIONS: dict[int, str] = {
    400: "The request could not be read",
    401: "A credential is needed, or the one given is malformed, expired or revoked",
    403: "The credential may not do this",
    404: "Nothing with this id (or not visible to this caller)",
    409: "The request conflicts with the current state",
    412: "If-Match named a version that is no longer current",
    413: "The request body is over the size limit",
    422: "Invalid input; `errors` names each field",
    429: "Over a rate limit; `Retry-After` says when to come back",
    503: "A store did not answer; retry later",
}

HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with (RFC 6750 for bearer tokens).",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until a request is accepted again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def install_openapi(app: FastAPI) -> None:
    """Build the document once, completed (`app.openapi` is FastAPI's documented hook)."""
    generate = app.openapi

    def openapi() -> OpenApi:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate(), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(schema: OpenApi, routes: list[Any]) -> OpenApi:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemDetails.model_json_schema(
        by_alias=True, ref_template="#/components/schemas/{model}"
    )
    components.update(problem_schema.pop("$defs", {}))
    components["ProblemDetails"] = problem_schema

    known = {
        (method, route.path_format) for route in _api_routes(routes) for method in route.methods
    }
    if unknown := set(CONFLICTS) - known:
        raise RuntimeError(f"CONFLICTS names operations that do not exist: {sorted(unknown)}")

    for route in _api_routes(routes):
        operations = schema.get("paths", {}).get(route.path_format, {})
        for method in route.methods:
            operation = operations.get(method.lower())
            if operation is not None:
                _document(operation, route, method)

    components["CountryCode"] = {
        "type": "string",
        "pattern": COUNTRY_PATTERN,
        "description": "ISO 3166-1 alpha-2, upper or lower case; answers use upper case.",
        "examples": ["IT"],
    }
    schema["paths"] = _share_country_enum(schema.get("paths", {}))
    for name, component in list(components.items()):
        if name != "CountryCode":
            components[name] = _share_country_enum(component)

    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in components and f'"#/components/schemas/{unused}"' not in repr(schema):
            del components[unused]
    return schema


def _share_country_enum(node: Any) -> Any:
    """Every inline copy of the country pattern becomes one `$ref` to `CountryCode`."""
    if isinstance(node, list):
        return [_share_country_enum(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("pattern") == COUNTRY_PATTERN:
        kept = {key: node[key] for key in ("description", "examples", "title") if key in node}
        return {"$ref": COUNTRY_REF, **kept}
    if list(node.get("patternProperties", {})) == [COUNTRY_PATTERN]:
        # A map keyed by country (`views_per_country`): pydantic says "keys matching the
        # pattern hold X" and leaves other keys open; the server refuses them.
        values = node["patternProperties"][COUNTRY_PATTERN]
        node = {key: value for key, value in node.items() if key != "patternProperties"}
        node["propertyNames"] = {"$ref": COUNTRY_REF}
        node["additionalProperties"] = values
    return {key: _share_country_enum(value) for key, value in node.items()}


def _api_routes(routes: list[Any]) -> Iterator[Any]:
    """Each documented API route as mounted (its full path, the routers' dependencies
    included): FastAPI's own view of `app.routes`, where included routers stay nested."""
    for context in iter_route_contexts(routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _statuses(route: Any, method: str) -> dict[int, str]:
    """Every error status the route can answer, with why, from what it depends on."""
    dependant = route.dependant
    calls = set(_calls(dependant))
    qualnames = {getattr(call, "__qualname__", "") for call in calls}
    statuses: dict[int, str] = {}

    def add(status: int, reason: str | None = None) -> None:
        statuses.setdefault(status, reason or DESCRIPTIONS[status])

    has_params = bool(
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.body_params
        or any(_flat_params(dependant))
    )
    if has_params or reject_operator_query_keys in calls:
        add(422)
    if optional_principal in calls or authenticated_partner in calls:
        add(401)
    if any(name.startswith("require_role.") for name in qualnames) or any(
        name.startswith(("require_view_scope.", "partner_for_path_view")) for name in qualnames
    ):
        add(403)
    if _names_something(route):
        add(404)
    if any(param.alias.lower() == "if-match" for param in _header_params(dependant)):
        add(412)
    if route.body_field is not None:
        add(400, "The body is not valid JSON (or form data) at all")
        add(413)
    rate_limited = not route.path_format.startswith(EXEMPT_PREFIXES)
    if rate_limited or authenticated_partner in calls:
        add(429)
    if route.path_format.startswith("/v1/"):
        add(503)
    if (method, route.path_format) in CONFLICTS:
        add(409, CONFLICTS[(method, route.path_format)])
    return statuses


def _names_something(route: Any) -> bool:
    """A path naming a thing by id or name (not a number such as a year) can name nothing."""
    return any(
        param.field_info.annotation not in (int, int | None)
        for param in route.dependant.path_params
    ) or any(True for _ in _sub_path_params(route.dependant))


def _sub_path_params(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield from sub.path_params
        yield from _sub_path_params(sub)


def _flat_params(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield from sub.path_params
        yield from sub.query_params
        yield from sub.header_params
        yield from sub.body_params
        yield from _flat_params(sub)


def _header_params(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.header_params
    for sub in dependant.dependencies:
        yield from _header_params(sub)


def _not_nullable(parameter: OpenApi) -> None:
    """A parameter is sent or left out; it cannot be JSON null. FastAPI documents an
    optional `str | None` as nullable, and a client would then send the text "null"."""
    schema = parameter.get("schema", {})
    branches = schema.get("anyOf", [])
    if {"type": "null"} in branches:
        rest = [branch for branch in schema.pop("anyOf") if branch != {"type": "null"}]
        schema.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
        if schema.get("default", ...) is None:
            del schema["default"]


def _document(operation: OpenApi, route: Any, method: str) -> None:
    for parameter in operation.get("parameters", []):
        _not_nullable(parameter)
    responses: dict[str, OpenApi] = operation.setdefault("responses", {})
    for status, reason in _statuses(route, method).items():
        responses.setdefault(str(status), {"description": reason})
    for code, response in responses.items():
        if not code.isdigit() or int(code) < 400:
            continue
        content = response.get("content")
        generic = content is None or _is_fastapi_validation(content)
        if generic:
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
            if response.get("description") in (None, "Validation Error"):
                response["description"] = DESCRIPTIONS.get(int(code), HTTPStatus(int(code)).phrase)
        if int(code) in HEADERS:
            response.setdefault("headers", {}).update(HEADERS[int(code)])
    operation["responses"] = dict(sorted(responses.items()))

    calls = set(_calls(route.dependant))
    if optional_principal in calls and current_principal not in calls:
        # Anonymous callers are served too; a token only changes what they see.
        requirements = operation.get("security", [])
        if {} not in requirements:
            operation["security"] = [{}, *requirements]


def _is_fastapi_validation(content: OpenApi) -> bool:
    schema = content.get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))
