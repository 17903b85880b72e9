"""Who is calling, as route dependencies: `CurrentPrincipal`, `OptionalPrincipal`,
`require_role(...)`, `require_editor`, `require_admin`.

Authentication is `Authorization: Bearer <jwt>` from `POST /v1/auth/token`. The
scheme object is OAuth2's password bearer so OpenAPI shows the lock icons and the
docs page can log in; the header itself is read here, so that a header that is
present but not a bearer token is a 401 rather than silently anonymous.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from beatstream.auth.guard import register_credential_check
from beatstream.auth.passwords import Passwords
from beatstream.auth.principals import Principal, Role
from beatstream.auth.repository import TokenState
from beatstream.auth.service import Reauthentication, account_gone
from beatstream.auth.sessions import AccountStates
from beatstream.auth.tokens import TokenCodec
from beatstream.deps import SettingsDep, StoresDep
from beatstream.errors import ForbiddenError, UnauthorizedError
from beatstream.state import get_account_states, get_passwords, get_stores, get_token_codec

TOKEN_URL = "/v1/auth/token"  # noqa: S105 - a path, not a secret
NO_TOKEN = f"this needs an access token: `Authorization: Bearer <token>` from {TOKEN_URL}"

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


async def get_token_state(stores: StoresDep) -> TokenState:
    redis = stores.settings.redis
    return TokenState(stores.redis, redis.key_prefix, redis.safe_url)


TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]
TokenStateDep = Annotated[TokenState, Depends(get_token_state)]
AccountStatesDep = Annotated[AccountStates, Depends(get_account_states)]


async def authenticate(request: Request) -> Principal | None:
    """The principal of the request's bearer token, or None without an `Authorization`
    header; anything else is a 401, never anonymous.

    A token counts only while it is not logged out, its account still exists, and its
    generation is the account's; the role is the account's current one, so a role
    change applies to tokens already issued (within `account_cache_ttl_s`).
    Reads everything from the request, so `guard` can run it outside FastAPI's
    dependency injection too.
    """
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, token = get_authorization_scheme_param(header)
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("the Authorization header must be `Bearer <token>`")
    principal = (await get_token_codec(request)).verify(token)
    state = await get_token_state(await get_stores(request))
    if await state.is_revoked(principal.token_id):
        raise UnauthorizedError("the access token has been revoked", invalid_token=True)
    account = await (await get_account_states(request)).get(principal.subject)
    if account is None:
        raise account_gone()
    if account.generation != principal.generation:
        raise UnauthorizedError(
            "the access token has been revoked: the account signed out everywhere "
            "or changed its password",
            invalid_token=True,
        )
    if account.role is not principal.role:
        principal = replace(principal, role=account.role)
    return principal


async def optional_principal(
    request: Request, _token: Annotated[str | None, Depends(bearer_scheme)]
) -> Principal | None:
    """`_token` only declares the scheme (OpenAPI, the docs' Authorize button)."""
    return await authenticate(request)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


async def current_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise UnauthorizedError(NO_TOKEN)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def _token_if_sent(request: Request) -> None:
    await authenticate(request)


async def _token_required(request: Request) -> None:
    if await authenticate(request) is None:
        raise UnauthorizedError(NO_TOKEN)


# A bad token, or none where one is needed, is a 401 even when the input is bad too.
register_credential_check(optional_principal, _token_if_sent)
register_credential_check(current_principal, _token_required)


async def reauthentication(
    request: Request,
    principal: CurrentPrincipal,
    passwords: PasswordsDep,
    state: TokenStateDep,
    settings: SettingsDep,
) -> Reauthentication:
    """For routes that change what proves an account (its email, its password)."""
    client = request.client.host if request.client else "unknown"
    return Reauthentication(principal, client, passwords, state, settings.security)


ReauthDep = Annotated[Reauthentication, Depends(reauthentication)]


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
