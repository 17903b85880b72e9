"""Login, logout and "who am I": the rules around the tokens.

A failed login answers the same 401, after the same amount of hashing work,
whether the email is unknown, has no password (seeded listeners) or the password
is wrong: neither the body nor the timing says which accounts exist.
"""

from __future__ import annotations

from datetime import UTC, datetime

from beatstream.auth import repository
from beatstream.auth.passwords import Passwords
from beatstream.auth.principals import Principal
from beatstream.auth.repository import TokenState
from beatstream.auth.tokens import IssuedToken, TokenCodec
from beatstream.errors import TooManyRequestsError, UnauthorizedError
from beatstream.listeners import repository as listeners
from beatstream.listeners.documents import Listener
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
    failures, retry_after = await state.failures(email, client)
    if failures >= settings.login_max_failures:
        raise TooManyRequestsError(
            "too many failed logins for this account from this address; try again later",
            retry_after_s=retry_after,
        )
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
    return codec.issue(account.id, account.role)


async def logout(principal: Principal, state: TokenState) -> None:
    """Denylisted only until the token would have expired anyway: the list stays small."""
    remaining = int((principal.expires_at - datetime.now(UTC)).total_seconds()) + 1
    await state.revoke(principal.token_id, remaining)


async def account_of(principal: Principal) -> Listener:
    """The account behind a token; gone (erased since the login) is a 401, not a 404."""
    account = await listeners.get_listener(principal.subject)
    if account is None:
        raise UnauthorizedError("the account of this token no longer exists", invalid_token=True)
    return account
