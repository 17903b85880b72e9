"""Login, logout (one token or all of them), password changes, re-authentication and
"who am I": the rules around the tokens.

A failed login answers the same 401, after the same amount of hashing work,
whether the email is unknown, has no password (seeded listeners) or the password
is wrong: neither the body nor the timing says which accounts exist.

A token alone does not change what proves the account (its email, its password):
those changes ask for the current password again, so a stolen token cannot be
turned into a stolen account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr

from beatstream.auth import repository
from beatstream.auth.passwords import Passwords
from beatstream.auth.principals import Principal
from beatstream.auth.repository import Account, TokenState
from beatstream.auth.sessions import AccountStates
from beatstream.auth.tokens import IssuedToken, TokenCodec
from beatstream.errors import (
    ForbiddenError,
    InvalidInputError,
    TooManyRequestsError,
    UnauthorizedError,
)
from beatstream.settings import SecuritySettings


def normalise_email(username: str) -> str:
    """The form's `username` as registration stored it: trimmed and lower-cased."""
    return username.strip().lower()


async def login(
    username: str,
    password: str,
    client: str,
    *,
    codec: TokenCodec,
    passwords: Passwords,
    state: TokenState,
    settings: SecuritySettings,
) -> IssuedToken:
    """Counts failures per (email, client address) so guessing one account's password
    is throttled without one noisy client locking everybody else out of theirs."""
    email = normalise_email(username)
    failures = await _failures_so_far(email, client, state, settings)
    account = await repository.account_by_email(email)
    stored_hash = account.password_hash if account else None
    # Verified before `account` is looked at: an unknown email must cost a hash too.
    verified = await passwords.verify(stored_hash, password)
    if account is None or not verified:
        await state.record_failure(email, client, settings.login_window_s)
        raise UnauthorizedError("wrong email or password")
    if failures:
        await state.clear_failures(email, client)
    if stored_hash and passwords.needs_rehash(stored_hash):
        await repository.set_password_hash(account.id, await passwords.hash(password))
    return codec.issue(account.id, account.role, generation=account.token_generation)


async def _failures_so_far(
    email: str, client: str, state: TokenState, settings: SecuritySettings
) -> int:
    """Failed password checks (logins and re-authentications alike); 429 past the limit."""
    failures, retry_after = await state.failures(email, client)
    if failures >= settings.login_max_failures:
        raise TooManyRequestsError(
            "too many failed logins for this account from this address; try again later",
            retry_after_s=retry_after,
        )
    return failures


async def logout(principal: Principal, state: TokenState) -> None:
    """Denylisted only until the token would have expired anyway: the list stays small."""
    remaining = int((principal.expires_at - datetime.now(UTC)).total_seconds()) + 1
    await state.revoke(principal.token_id, remaining)


async def logout_everywhere(principal: Principal, accounts: AccountStates) -> None:
    """Every token of the account stops counting: at once in this process, within
    `account_cache_ttl_s` in the others."""
    if await repository.bump_generation(principal.subject) is None:
        raise account_gone()
    accounts.invalidate(principal.subject)


@dataclass(frozen=True, slots=True)
class Reauthentication:
    """Proof, beyond the token, that the person is there: the account's password again.

    The password is the caller's own (an admin changing someone's email gives the
    admin's). Wrong attempts count with failed logins for that account and address,
    so a stolen token does not open an unthrottled way to guess the password.
    """

    principal: Principal
    client: str
    passwords: Passwords
    state: TokenState
    settings: SecuritySettings

    async def confirm(self, password: SecretStr | None, field: str = "current_password") -> Account:
        """The caller's account; 422 naming `field` without a password, 403 naming it
        for a wrong one, 429 after too many wrong ones."""
        if password is None:
            raise InvalidInputError(
                field, "required: the password of the signed-in account", location="body"
            )
        account = await repository.account_by_id(self.principal.subject)
        if account is None:
            raise account_gone()
        failures = await _failures_so_far(account.email, self.client, self.state, self.settings)
        if not await self.passwords.verify(account.password_hash, password.get_secret_value()):
            await self.state.record_failure(
                account.email, self.client, self.settings.login_window_s
            )
            raise ForbiddenError(
                f"{field} is not the password of the signed-in account",
                errors=[
                    {
                        "field": field,
                        "in": "body",
                        "message": "not the password of the signed-in account",
                        "type": "forbidden",
                    }
                ],
            )
        if failures:
            await self.state.clear_failures(account.email, self.client)
        return account


async def change_password(
    reauth: Reauthentication,
    current: SecretStr,
    new: SecretStr,
    *,
    codec: TokenCodec,
    accounts: AccountStates,
) -> IssuedToken:
    """Every earlier token of the account stops counting (a thief's included); the
    caller gets a new one so this session carries on."""
    account = await reauth.confirm(current)
    new_hash = await reauth.passwords.hash(new.get_secret_value())
    generation = await repository.replace_password(account.id, new_hash)
    if generation is None:
        raise account_gone()
    accounts.invalidate(account.id)
    return codec.issue(account.id, account.role, generation=generation)


def account_gone() -> UnauthorizedError:
    return UnauthorizedError("the account of this token no longer exists", invalid_token=True)


@dataclass(frozen=True, slots=True)
class AccountProfile:
    name: str
    email: str


async def account_of(principal: Principal) -> AccountProfile:
    """The account behind a token; gone (erased since the login) is a 401, not a 404."""
    found = await repository.profile(principal.subject)
    if found is None:
        raise account_gone()
    return AccountProfile(*found)
