"""Authenticate before validating: a request to a protected route without usable
credentials is a 401, whatever else is wrong with it.

FastAPI parses the JSON body before any dependency runs, and router-level checks
(the operator-key query guard) run before a route's own dependencies, so a broken
body or query reached the client as a 422 describing the route's input even when
the caller had no credentials at all. Dependency order cannot fix that, so the app's
handlers for input errors look first: if the matched route depends on a registered
credential dependency (bearer token, partner API key) and the request does not pass
that check, the answer is the check's 401 instead.

It lives on the app's exception handlers, not on each router, so no route can be
left out; `register_credential_check` is how a dependency says "I am a credential".
The check runs again only on this error path; a valid request pays nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import Response

from beatstream.errors import AppError, InvalidInputError

CredentialCheck = Callable[[Request], Awaitable[None]]
# What `app.exception_handlers` holds (Starlette allows sync handlers too).
Handler = Callable[[Request, Any], Response | Awaitable[Response]]

_CHECKS: dict[Callable[..., Any], CredentialCheck] = {}


def register_credential_check(dependency: Callable[..., Any], check: CredentialCheck) -> None:
    """Routes depending on `dependency` (at any depth) run `check` before reporting bad
    input; `check` raises the dependency's own error for missing or bad credentials."""
    _CHECKS[dependency] = check


def _checks_in(dependant: Dependant) -> list[CredentialCheck]:
    found: list[CredentialCheck] = []
    for sub in dependant.dependencies:
        check = _CHECKS.get(sub.call) if sub.call is not None else None
        if check is not None and check not in found:
            found.append(check)
        found.extend(c for c in _checks_in(sub) if c not in found)
    return found


def authenticate_before_validating(app: FastAPI) -> None:
    """Wrap the app's handlers for input errors (install the problem handlers first)."""
    render_app_error: Handler = app.exception_handlers[AppError]
    checks_of: dict[int, list[CredentialCheck]] = {}

    async def credentials_refused(request: Request) -> Response | None:
        route = request.scope.get("route")
        if not isinstance(route, APIRoute):
            return None
        checks = checks_of.get(id(route))
        if checks is None:
            checks = checks_of[id(route)] = _checks_in(route.dependant)
        try:
            for check in checks:
                await check(request)
        except AppError as refused:
            return await _respond(render_app_error, request, refused)
        return None

    def first_credentials(render: Handler) -> Handler:
        async def handler(request: Request, exc: Exception) -> Response:
            return await credentials_refused(request) or await _respond(render, request, exc)

        return handler

    for error in (RequestValidationError, InvalidInputError):
        render = app.exception_handlers.get(error, render_app_error)
        app.add_exception_handler(error, first_credentials(render))


async def _respond(handler: Handler, request: Request, exc: Exception) -> Response:
    response = handler(request, exc)
    return await response if isawaitable(response) else response
