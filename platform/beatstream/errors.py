"""The one error hierarchy of Beatstream.

Services raise `AppError` subclasses; `beatstream.problems` turns each into an
RFC 9457 problem-details response. Nothing else chooses a status code.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """A failure with a meaning for the client: carries its status and problem type."""

    status_code: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    type_slug: ClassVar[str] = "internal"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class NotFoundError(AppError):
    status_code = 404
    title = "Not Found"
    type_slug = "not-found"


class ConflictError(AppError):
    status_code = 409
    title = "Conflict"
    type_slug = "conflict"


class StoreUnavailableError(AppError):
    """A store (MongoDB, Elasticsearch, Redis) did not answer; clients may retry later."""

    status_code = 503
    title = "Service Unavailable"
    type_slug = "store-unavailable"

    def __init__(self, store: str, safe_url: str, reason: str, *, retry_after_s: int = 5) -> None:
        super().__init__(
            f"{store} unreachable at {safe_url}: {reason}",
            headers={"Retry-After": str(retry_after_s)},
            store=store,
        )
        self.store = store
        self.safe_url = safe_url
        self.reason = reason


class InvalidInputError(AppError):
    """Input that passed type validation but is still wrong (a bad cursor, a missing ref)."""

    status_code = 422
    title = "Unprocessable Content"
    type_slug = "validation"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            f"invalid input: {field}",
            errors=[{"field": field, "in": "body", "message": message, "type": "value_error"}],
        )
        self.field = field


class PreconditionFailedError(AppError):
    """`If-Match` named a version that is no longer current: someone else wrote first."""

    status_code = 412
    title = "Precondition Failed"
    type_slug = "precondition-failed"


class UnsupportedByServerError(AppError):
    """The connected MongoDB-wire server lacks a feature this request needs."""

    status_code = 501
    title = "Not Implemented"
    type_slug = "unsupported-by-server"


class UnauthorizedError(AppError):
    """No usable credentials. One fixed message for every cause, so a caller probing keys
    learns nothing about which part of theirs was wrong."""

    status_code = 401
    title = "Unauthorized"
    type_slug = "unauthorized"


class ForbiddenError(AppError):
    """Valid credentials that do not grant this operation."""

    status_code = 403
    title = "Forbidden"
    type_slug = "forbidden"


class RateLimitedError(AppError):
    """Over a rate limit; `Retry-After` says when the next request will be accepted."""

    status_code = 429
    title = "Too Many Requests"
    type_slug = "rate-limited"
