"""Partner authentication for routes: `X-API-Key` -> `PartnerKey`, with rate limit and scope.

Order per request: the key (401), then its rate limit (429), then the scope (403).
Every authenticated request counts against the key's limit, refused ones included,
so a misconfigured client hammering a view it may not read is throttled too.

    @router.get("/v1/thirdparty/play_stats")
    async def play_stats(partner: Annotated[PartnerKey, require_view_scope("play_stats")]): ...

or, for one route serving every view under a `{view}` path parameter, `ViewPartner`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader

from beatstream.auth.guard import register_credential_check
from beatstream.deps import SettingsDep
from beatstream.errors import NotFoundError, UnauthorizedError
from beatstream.partners import service
from beatstream.partners.schemas import VIEW_NAMES, PartnerKey
from beatstream.ratelimit import (
    SCOPE_IP_COUNTED,
    rate_limited,
    register_key_limiter,
    remember_headers,
)
from beatstream.state import find_key_cache, find_ratelimiter

__all__ = [
    "PartnerDep",
    "PartnerKey",
    "ViewPartner",
    "authenticated_partner",
    "require_view_scope",
]

# `auto_error=False`: a missing header gets the same 401 body as a wrong key, from us.
api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A partner API key, `bsk_<key_id>_<secret>` (`beatstream keys create`).",
)


async def authenticated_partner(
    request: Request,
    settings: SettingsDep,
    presented: Annotated[str | None, Depends(api_key_header)],
) -> PartnerKey:
    """The key's partner, counted against its rate limit (cached per request by FastAPI).

    A request whose key fails counts against its client IP's anonymous limit instead:
    invalid keys cannot be sprayed at MongoDB faster than anonymous requests can.
    """
    limiter = await find_ratelimiter(request)
    try:
        partner, own_limit = await service.authenticate(presented, await find_key_cache(request))
    except UnauthorizedError:
        if limiter is not None and not request.scope.get(SCOPE_IP_COUNTED):
            address = request.client.host if request.client else "unknown"
            decision = await limiter.hit(f"ip:{address}", settings.ratelimit.anonymous_limit)
            if decision is not None and not decision.allowed:
                raise rate_limited(decision, f"client {address}") from None
            remember_headers(request.scope, decision)
        raise
    if limiter is not None:
        limit = own_limit or settings.ratelimit.key_limit
        decision = await limiter.hit(f"key:{partner.key_id}", limit)
        if decision is not None and not decision.allowed:
            raise rate_limited(decision, f"API key {partner.key_id}")
        remember_headers(request.scope, decision)
    return partner


PartnerDep = Annotated[PartnerKey, Depends(authenticated_partner)]


async def _key_required(request: Request) -> None:
    await service.authenticate(
        request.headers.get(api_key_header.model.name),
        await find_key_cache(request),
    )


# A missing or bad key is a 401 even when the query is malformed too.
register_credential_check(authenticated_partner, _key_required)
# Every route depending on this is limited per key here, not per address in the middleware.
register_key_limiter(authenticated_partner)


def require_view_scope(view: str) -> Any:
    """`Depends(...)` for a route serving one view: 401, 429, then 403 without its scope."""
    if view not in VIEW_NAMES:
        raise ValueError(f"unknown view {view!r}; known: {', '.join(VIEW_NAMES)}")

    async def partner_for_view(partner: PartnerDep) -> PartnerKey:
        service.require_scope(partner, view)
        return partner

    dependency: Callable[[PartnerKey], Awaitable[PartnerKey]] = partner_for_view
    return Depends(dependency)


async def partner_for_path_view(
    partner: PartnerDep,
    # The names as an enum in the document, checked here (not by FastAPI) so that the
    # list is not probe-able without a key.
    view: Annotated[
        str,
        Path(description="A third-party view name.", json_schema_extra={"enum": list(VIEW_NAMES)}),
    ],
) -> PartnerKey:
    """For `/{view}` routes: an unknown view is a 404 (after the key check, so the list
    of views is not probe-able without a key), a view outside the key's scopes a 403."""
    if view not in VIEW_NAMES:
        raise NotFoundError(f"no third-party view named {view!r}")
    service.require_scope(partner, view)
    return partner


ViewPartner = Annotated[PartnerKey, Depends(partner_for_path_view)]
