"""RFC 9457 problem details for every 4xx and 5xx the API returns.

One handler per exception family, all producing the same body shape:
`type`, `title`, `status`, `detail`, `instance`, plus `request_id` and, for
validation failures, `errors` naming each offending field.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from beatstream.common.inputs import OPERATOR_KEY_ERROR
from beatstream.errors import AppError
from beatstream.logs import request_id_var
from beatstream.middleware import REQUEST_ID_HEADER

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://beatstream.dev/problems/"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str)


def problem(
    request: Request,
    *,
    status: int,
    title: str,
    detail: str,
    type_slug: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    request_id = request_id_of(request)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request_id,
        **extra,
    }
    # Here too, not only in SecurityHeadersMiddleware: a 500 is rendered outside it.
    headers = {**(headers or {}), "X-Content-Type-Options": "nosniff"}
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return ProblemResponse(body, status_code=status, headers=headers)


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None) or request_id_var.get()


# FastAPI's first `loc` element, as the `in` of an error (OpenAPI's parameter locations).
_LOCATIONS = {
    "body": "body",
    "query": "query",
    "path": "path",
    "header": "header",
    "cookie": "cookie",
}


def _location(loc: tuple[Any, ...]) -> str:
    return _LOCATIONS.get(loc[0], "body") if loc else "body"


def _field_name(loc: tuple[Any, ...]) -> str:
    """`("query", "limit")` -> `limit`; `("body", "events", 3, "song_id")` -> `events[3].song_id`.

    The same notation the operator-key check and the services use, so a client can
    match every error of one response against its body the same way. An error about
    the whole of one location (a query model's own check) is named after the location.
    """
    parts = loc[1:] if loc and loc[0] in _LOCATIONS else loc
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or _location(loc)


def _offending_field(error: Mapping[str, Any]) -> str:
    """The field path; for an operator key (`{"title": {"$ne": 1}}`) the key itself."""
    if error["type"] == OPERATOR_KEY_ERROR:
        return str(error["ctx"]["key"])
    return _field_name(tuple(error["loc"]))


async def _app_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, AppError)
    if exc.status_code >= 500:
        logger.warning("request failed: %s", exc.detail)
    return problem(
        request,
        status=exc.status_code,
        title=exc.title,
        detail=exc.detail,
        type_slug=exc.type_slug,
        headers=exc.headers,
        **exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _offending_field(err),
            "in": _location(tuple(err["loc"])),
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors()
    ]
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return problem(
        request,
        status=422,
        title="Unprocessable Content",
        detail=f"invalid input: {fields}",
        type_slug="validation",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
        exc.status_code, "http-error"
    )
    return problem(
        request,
        status=exc.status_code,
        title=HTTPStatus(exc.status_code).phrase,
        detail=str(exc.detail),
        type_slug=slug,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unhandled(request: Request, exc: Exception) -> ProblemResponse:
    logger.exception(
        "unhandled error on %s %s",
        request.method,
        request.url.path,
        extra={"request_id": request_id_of(request)},
    )
    return problem(
        request,
        status=500,
        title="Internal Server Error",
        detail="an unexpected error occurred; quote the request id when reporting it",
        type_slug="internal",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
