from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from beatstream.auth.tokens import TokenCodec
from beatstream.errors import AppError
from beatstream.health.service import ReadinessProbe
from beatstream.state import app_state, get_readiness_probe


def _is_admin_token(authorization: str | None, tokens: TokenCodec) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        return tokens.verify(token.strip()).is_admin
    except AppError:
        return False


async def shows_detail(request: Request) -> bool:
    """Store versions and errors help an attacker pick exploits: admins and the
    operator's own networks (`HEALTH_DETAIL_NETWORKS`) see them, nobody else.

    An admin token is checked by signature and expiry only, not against the
    revocation list: that lives in Redis, and readiness must answer (in detail) while
    Redis is down. A bad token is no error here either, just no detail.
    The address is the TCP peer unless it is a trusted proxy (`API_TRUSTED_PROXIES`),
    so a client cannot claim an internal one with `X-Forwarded-For`.
    """
    state = app_state(request)
    if _is_admin_token(request.headers.get("authorization"), state["tokens"]):
        return True
    networks = state["settings"].health.detail_networks
    if not networks or request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:  # a unix socket peer, or a test client's made-up host
        return False
    return any(address in ipaddress.ip_network(net) for net in networks.split(","))


ReadinessDep = Annotated[ReadinessProbe, Depends(get_readiness_probe)]
DetailDep = Annotated[bool, Depends(shows_detail)]
