"""argon2id password hashes, computed off the event loop and never too many at once.

A hash costs tens of milliseconds of CPU and `password_memory_kib` of RAM on
purpose (that is what makes a stolen hash expensive to crack), so it runs in a
worker thread (argon2-cffi releases the GIL) and a semaphore bounds how many run at
once: a burst of logins queues rather than exhausting memory or the thread pool.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from beatstream.settings import SecuritySettings


class Passwords:
    def __init__(self, settings: SecuritySettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_kib,
            parallelism=settings.password_parallelism,
        )
        self._slots = asyncio.Semaphore(settings.password_max_concurrent)
        # Verified against when the email is unknown or has no password, so a wrong
        # email costs what a wrong password costs and timing reveals no account.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True only for a real hash that matches; always pays for one verification."""
        async with self._slots:
            return await asyncio.to_thread(self._verify, stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other cost settings than today's."""
        return self._hasher.check_needs_rehash(stored_hash)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            matched = self._hasher.verify(stored_hash or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and stored_hash is not None
