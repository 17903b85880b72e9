"""Every store query of the auth package: accounts in MongoDB, token state in Redis.

Accounts are listener documents (`listeners` collection): one person, one email,
one password; auth reaches them through its own narrow model (`auth.documents`).
Redis holds only short-lived state that expires by itself: revoked token ids until
their token would have expired anyway, and failed-login counters.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from redis.exceptions import RedisClusterException, RedisError

from beatstream.auth.documents import AccountCredentials
from beatstream.auth.principals import Role
from beatstream.auth.sessions import AccountState
from beatstream.common.documents import utcnow
from beatstream.errors import StoreUnavailableError
from beatstream.stores.clients import RedisClient

# Only what a login needs, never the rest of the personal data.
_LOGIN_PROJECTION = {"_id": 1, "email": 1, "password_hash": 1, "role": 1, "token_generation": 1}
_STATE_PROJECTION = {"_id": 0, "role": 1, "token_generation": 1}


@dataclass(frozen=True, slots=True)
class Account:
    id: PydanticObjectId
    email: str
    password_hash: str | None
    role: Role
    token_generation: int


def _account(row: Mapping[str, Any]) -> Account:
    return Account(
        id=PydanticObjectId(row["_id"]),
        email=row.get("email", ""),
        password_hash=row.get("password_hash"),
        role=Role(row.get("role", Role.listener)),
        token_generation=int(row.get("token_generation", 0)),
    )


async def account_by_email(email: str) -> Account | None:
    row = await AccountCredentials.get_pymongo_collection().find_one(
        {"email": email}, _LOGIN_PROJECTION
    )
    return None if row is None else _account(row)


async def account_by_id(account_id: PydanticObjectId) -> Account | None:
    row = await AccountCredentials.get_pymongo_collection().find_one(
        {"_id": account_id}, _LOGIN_PROJECTION
    )
    return None if row is None else _account(row)


async def account_state(account_id: PydanticObjectId) -> AccountState | None:
    """What every authenticated request checks (through `sessions.AccountStates`)."""
    row = await AccountCredentials.get_pymongo_collection().find_one(
        {"_id": account_id}, _STATE_PROJECTION
    )
    if row is None:
        return None
    return AccountState(
        role=Role(row.get("role", Role.listener)), generation=int(row.get("token_generation", 0))
    )


async def bump_generation(account_id: PydanticObjectId) -> int | None:
    """Every token issued so far stops counting; the new generation, or None if gone."""
    raw = await AccountCredentials.get_pymongo_collection().find_one_and_update(
        {"_id": account_id},
        {"$inc": {"token_generation": 1}},
        projection={"token_generation": 1},
        return_document=ReturnDocument.AFTER,
    )
    return None if raw is None else int(raw["token_generation"])


async def replace_password(account_id: PydanticObjectId, password_hash: str) -> int | None:
    """A new password and a new token generation in one write: no moment where the new
    password works and a token from before the change still does."""
    raw = await AccountCredentials.get_pymongo_collection().find_one_and_update(
        {"_id": account_id},
        {"$set": {"password_hash": password_hash}, "$inc": {"token_generation": 1}},
        projection={"token_generation": 1},
        return_document=ReturnDocument.AFTER,
    )
    return None if raw is None else int(raw["token_generation"])


async def set_password_hash(account_id: PydanticObjectId, password_hash: str) -> None:
    """A rehash with today's cost settings; not a profile change, so no version bump."""
    await AccountCredentials.get_pymongo_collection().update_one(
        {"_id": account_id}, {"$set": {"password_hash": password_hash}}
    )


async def set_role(email: str, role: Role) -> Account | None:
    raw = await AccountCredentials.get_pymongo_collection().find_one_and_update(
        {"email": email},
        {"$set": {"role": role.value, "updated_at": utcnow()}, "$inc": {"version": 1}},
        projection=_LOGIN_PROJECTION,
        return_document=ReturnDocument.AFTER,
    )
    return None if raw is None else _account(raw)


async def profile(account_id: PydanticObjectId) -> tuple[str, str] | None:
    """The name and email an account shows its holder (`/auth/me`), or None if gone."""
    row = await AccountCredentials.get_pymongo_collection().find_one(
        {"_id": account_id}, {"_id": 0, "name": 1, "email": 1}
    )
    return None if row is None else (str(row.get("name", "")), str(row.get("email", "")))


@dataclass(frozen=True, slots=True)
class TokenState:
    """Redis-side auth state under the service's key prefix. Failures are 503s, not
    silent passes: a denylist that cannot be read must not let a revoked token in."""

    redis: RedisClient
    prefix: str
    safe_url: str

    async def revoke(self, token_id: str, ttl_s: int) -> None:
        async with self._guard():
            await self.redis.set(self._revoked(token_id), b"1", ex=max(1, ttl_s))

    async def is_revoked(self, token_id: str) -> bool:
        async with self._guard():
            return bool(await self.redis.exists(self._revoked(token_id)))

    async def failures(self, email: str, client: str) -> tuple[int, int]:
        """Failed logins in the current window, and the seconds until it closes."""
        key = self._failures(email, client)
        async with self._guard():
            count, ttl = await self.redis.get(key), await self.redis.ttl(key)
        return (int(count) if count else 0), max(int(ttl), 0)

    async def record_failure(self, email: str, client: str, window_s: int) -> None:
        """The window starts at the first failure (`SET NX EX`) and is not extended."""
        key = self._failures(email, client)
        async with self._guard():
            await self.redis.set(key, 0, ex=window_s, nx=True)
            await self.redis.incr(key)

    async def clear_failures(self, email: str, client: str) -> None:
        async with self._guard():
            await self.redis.delete(self._failures(email, client))

    def _revoked(self, token_id: str) -> str:
        return f"{self.prefix}auth:revoked:{token_id}"

    def _failures(self, email: str, client: str) -> str:
        # Hashed: keys show up in monitoring, and emails are personal data.
        digest = hashlib.sha256(f"{email}\0{client}".encode()).hexdigest()[:32]
        return f"{self.prefix}auth:failures:{digest}"

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        try:
            yield
        except (RedisError, RedisClusterException) as exc:
            raise StoreUnavailableError("redis", self.safe_url, type(exc).__name__) from None
