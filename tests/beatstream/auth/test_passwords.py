"""Password hashing: argon2id, verified safely, and never run on the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from argon2 import PasswordHasher

from beatstream.auth.passwords import Passwords
from beatstream.settings import SecuritySettings
from tests.fixtures.tokens import TEST_SECURITY

CHEAP = Passwords(TEST_SECURITY)


async def test_a_hash_is_argon2id_salted_and_verifies_only_its_password() -> None:
    first = await CHEAP.hash("correct horse battery")
    second = await CHEAP.hash("correct horse battery")

    assert first.startswith("$argon2id$")
    assert "correct horse" not in first
    assert first != second  # a fresh salt each time
    assert await CHEAP.verify(first, "correct horse battery")
    assert await CHEAP.verify(second, "correct horse battery")
    assert not await CHEAP.verify(first, "correct horse batterY")


async def test_no_stored_hash_or_a_broken_one_never_verifies() -> None:
    assert not await CHEAP.verify(None, "anything at all")
    assert not await CHEAP.verify("", "anything at all")
    assert not await CHEAP.verify("$argon2id$garbage", "anything at all")
    assert not await CHEAP.verify("plaintext-password", "plaintext-password")


async def test_a_hash_made_with_other_costs_needs_a_rehash() -> None:
    stronger = Passwords(TEST_SECURITY.model_copy(update={"password_time_cost": 2}))
    old = await CHEAP.hash("correct horse battery")

    assert stronger.needs_rehash(old)
    assert not CHEAP.needs_rehash(old)
    assert await stronger.verify(old, "correct horse battery")


async def test_hashing_does_not_block_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hash runs in a worker thread: while it runs, the event loop keeps serving.

    Decided without timing: the hash waits for a coroutine on the loop to run, which
    can only happen if the hash is not holding the loop's thread. (How slow a hash is
    at the default cost is measured in bench/auth_overhead.py.)
    """
    passwords = Passwords(TEST_SECURITY)
    loop_ran = threading.Event()
    hash_threads: list[int] = []
    original = PasswordHasher.hash

    def hash_waiting_for_the_loop(self: PasswordHasher, password: str | bytes) -> str:
        hash_threads.append(threading.get_ident())
        loop_ran.wait(timeout=30)  # a deadlock guard only: set at once when not blocked
        return original(self, password)

    async def on_the_loop() -> None:
        loop_ran.set()

    monkeypatch.setattr(PasswordHasher, "hash", hash_waiting_for_the_loop)
    hashing = asyncio.create_task(passwords.hash("correct horse battery"))
    await asyncio.sleep(0)
    await on_the_loop()
    stored = await hashing

    assert loop_ran.is_set()
    assert hash_threads
    assert hash_threads[0] != threading.get_ident()
    assert stored.startswith("$argon2id$")


def test_the_default_cost_is_argon2_cffis_own() -> None:
    """The defaults that make a stolen hash expensive: 3 passes over 64 MiB, 4 lanes."""
    defaults = SecuritySettings()

    assert (
        defaults.password_time_cost,
        defaults.password_memory_kib,
        defaults.password_parallelism,
    ) == (3, 65_536, 4)


async def test_an_unknown_account_pays_for_the_same_argon2_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Login verifies against a dummy hash when there is no account, so a failed login
    for an unregistered email does the same work (one argon2 verification of a hash
    with today's cost) as a wrong password: timing does not tell which emails exist.
    Counted, not timed, so the test cannot flake on a busy machine."""
    passwords = Passwords(TEST_SECURITY)
    real = await passwords.hash("correct horse battery")
    verified: list[str] = []
    original = PasswordHasher.verify

    def counting_verify(self: PasswordHasher, stored: str | bytes, password: str | bytes) -> bool:
        verified.append(str(stored))
        return original(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)

    assert not await passwords.verify(real, "wrong password!")
    assert not await passwords.verify(None, "wrong password!")

    assert len(verified) == 2
    wrong_password_hash, unknown_account_hash = verified
    assert wrong_password_hash == real
    assert unknown_account_hash != real
    assert unknown_account_hash.startswith("$argon2id$")
    assert not passwords.needs_rehash(unknown_account_hash), "the dummy must cost the same"


async def test_no_more_hashes_run_at_once_than_configured() -> None:
    """Each hash holds `password_memory_kib` of RAM: a burst of logins must queue."""
    passwords = Passwords(TEST_SECURITY.model_copy(update={"password_max_concurrent": 2}))
    running, most = 0, 0
    lock = threading.Lock()
    real = passwords._hasher

    class CountingHasher:
        def hash(self, password: str) -> str:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.02)
            with lock:
                running -= 1
            return real.hash(password)

    passwords._hasher = CountingHasher()  # type: ignore[assignment]
    hashes = await asyncio.gather(*(passwords.hash(f"password-{i}") for i in range(8)))

    assert most == 2
    assert len(set(hashes)) == 8
