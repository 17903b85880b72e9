"""Thin HTTP layer for accounts' tokens: log in (OAuth2 password flow), who am I, log
out (this token or every one), change the password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from beatstream.auth import service
from beatstream.auth.dependencies import (
    AUTH_RESPONSES,
    AccountStatesDep,
    CurrentPrincipal,
    PasswordsDep,
    ReauthDep,
    TokenCodecDep,
    TokenStateDep,
)
from beatstream.auth.schemas import MeOut, PasswordChange, TokenOut
from beatstream.deps import SettingsDep

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    responses={
        401: {"description": "Wrong email or password (the same answer for both)"},
        429: {"description": "Too many failed logins for this email from this address"},
    },
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    codec: TokenCodecDep,
    passwords: PasswordsDep,
    state: TokenStateDep,
    settings: SettingsDep,
) -> TokenOut:
    """OAuth2 password flow: form fields `username` (the email) and `password`."""
    issued = await service.login(
        form.username,
        form.password,
        request.client.host if request.client else "unknown",
        codec=codec,
        passwords=passwords,
        state=state,
        settings=settings.security,
    )
    return TokenOut(access_token=issued.token, expires_in=issued.expires_in)


@router.get("/me", responses=AUTH_RESPONSES)
async def me(principal: CurrentPrincipal) -> MeOut:
    account = await service.account_of(principal)
    return MeOut(
        id=principal.subject,
        name=account.name,
        email=account.email,
        role=principal.role,
        token_expires_at=principal.expires_at,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=AUTH_RESPONSES)
async def logout(principal: CurrentPrincipal, state: TokenStateDep) -> None:
    """Revokes this token at once (other devices' tokens run until they expire)."""
    await service.logout(principal, state)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT, responses=AUTH_RESPONSES)
async def logout_everywhere(principal: CurrentPrincipal, accounts: AccountStatesDep) -> None:
    """Revokes every token of the account, this one included (a lost phone, a leak)."""
    await service.logout_everywhere(principal, accounts)


@router.post(
    "/password",
    responses={
        **AUTH_RESPONSES,
        403: {"description": "`current_password` is wrong (named in `errors`)"},
        429: {"description": "Too many wrong passwords for this account from this address"},
    },
)
async def change_password(
    data: PasswordChange,
    reauth: ReauthDep,
    codec: TokenCodecDep,
    accounts: AccountStatesDep,
) -> TokenOut:
    """Needs the current password. Every earlier token of the account is revoked; the
    answer carries a new one, so this client stays signed in."""
    issued = await service.change_password(
        reauth, data.current_password, data.new_password, codec=codec, accounts=accounts
    )
    return TokenOut(access_token=issued.token, expires_in=issued.expires_in)
