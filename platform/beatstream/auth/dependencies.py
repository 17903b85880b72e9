"""Who is calling, as route dependencies: `CurrentPrincipal`, `OptionalPrincipal`,
`require_role(...)`, `require_editor`, `require_admin`.

Authentication is `Authorization: Bearer <jwt>` from `POST /v1/auth/token`. The
scheme object is OAuth2's password bearer so OpenAPI shows the lock icons and the
docs page can log in; the header itself is read here, so that a header that is
present but not a bearer token is a 401 rather than silently anonymous.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from beatstream.auth.passwords import Passwords
from beatstream.auth.principals import Principal, Role
from beatstream.auth.repository import TokenState
from beatstream.auth.tokens import TokenCodec
from beatstream.deps import StoresDep
from beatstream.errors import ForbiddenError, UnauthorizedError

TOKEN_URL = "/v1/auth/token"  # noqa: S105 - a path, not a secret

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    scheme_name="bearer",
    description="An access token from `POST /v1/auth/token` (username = email).",
    auto_error=False,
)

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No access token, or a malformed, expired or revoked one"},
}
ROLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    403: {"description": "The token's role may not do this"},
}


async def get_token_codec(request: Request) -> TokenCodec:
    codec: TokenCodec = request.state.tokens
    return codec


async def get_passwords(request: Request) -> Passwords:
    passwords: Passwords = request.state.passwords
    return passwords


async def get_token_state(stores: StoresDep) -> TokenState:
    redis = stores.settings.redis
    return TokenState(stores.redis, redis.key_prefix, redis.safe_url)


TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]
TokenStateDep = Annotated[TokenState, Depends(get_token_state)]


async def optional_principal(
    request: Request,
    token: Annotated[str | None, Depends(bearer_scheme)],
    codec: TokenCodecDep,
    state: TokenStateDep,
) -> Principal | None:
    """None without an `Authorization` header; a bad one is a 401, never anonymous."""
    if "authorization" not in request.headers:
        return None
    if not token:
        raise UnauthorizedError("the Authorization header must be `Bearer <token>`")
    principal = codec.verify(token)
    if await state.is_revoked(principal.token_id):
        raise UnauthorizedError("the access token has been revoked", invalid_token=True)
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


async def current_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise UnauthorizedError(
            f"this needs an access token: `Authorization: Bearer <token>` from {TOKEN_URL}"
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only `roles` (403 naming them; 401 without a token).

    Make each one once, at import: FastAPI caches a dependency per request by the
    function's identity, and a fresh closure per route would defeat that.
    """
    allowed = frozenset(roles)
    names = " or ".join(role.value for role in roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise ForbiddenError(f"this needs the {names} role", required_roles=sorted(allowed))
        return principal

    return dependency


require_editor = require_role(Role.editor, Role.admin)
require_admin = require_role(Role.admin)
