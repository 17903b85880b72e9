"""The one error hierarchy of Beatstream.

Services raise `AppError` subclasses; `beatstream.problems` turns each into an
RFC 9457 problem-details response. Nothing else chooses a status code.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

Location = Literal["body", "query", "path", "header"]
"""Where a value came from: the `in` of a problem's `errors` entry (as in OpenAPI)."""


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


class UnauthorizedError(AppError):
    """No usable credentials: a missing, malformed, expired or revoked token, or a failed login.

    RFC 6750: the challenge tells the client which scheme to use, and for a bad token
    that it was the token (not the request) that was wrong.
    """

    status_code = 401
    title = "Unauthorized"
    type_slug = "unauthorized"

    def __init__(
        self, detail: str, *, invalid_token: bool = False, challenge: str | None = None
    ) -> None:
        """`challenge` names another scheme (partner API keys); the default is Bearer."""
        if challenge is None:
            challenge = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class ForbiddenError(AppError):
    """Authenticated, and allowed to know the thing exists, but not to do this to it."""

    status_code = 403
    title = "Forbidden"
    type_slug = "forbidden"


class TooManyRequestsError(AppError):
    """Over a limit (failed logins, a rate limit); `Retry-After` says when to come back."""

    status_code = 429
    title = "Too Many Requests"
    type_slug = "too-many-requests"

    def __init__(
        self, detail: str, *, retry_after_s: int, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(
            detail, headers={**(headers or {}), "Retry-After": str(max(1, retry_after_s))}
        )


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
    """Input that passed type validation but is still wrong (a bad cursor, a missing ref).

    `location` has no default: a check on a query parameter, a path segment or a
    header must not be reported as a body field, and mypy catches one that forgets.
    """

    status_code = 422
    title = "Unprocessable Content"
    type_slug = "validation"

    def __init__(self, field: str, message: str, *, location: Location) -> None:
        super().__init__(
            f"invalid input: {field}",
            errors=[{"field": field, "in": location, "message": message, "type": "value_error"}],
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
