"""The local `.env` a first run creates: the secrets every process must share.

Without `SECURITY_JWT_SECRET` and `THIRDPARTY_PSEUDONYM_SECRET` each process makes its
own (and warns): tokens die at every restart and seeded listeners get no pseudonymous
key, so the partner views stay empty. `beatstream init` (which `make serve` runs)
writes both to `.env`, which `Settings` reads in every command (serve, seed, sync,
keys, accounts, demo...), so they are generated once per checkout and then shared.

The file is created with `O_CREAT | O_EXCL` and mode 0600 in one system call: no
window in which another user could read it, and an existing file (the operator's own,
or one another `init` wrote a moment earlier) is never replaced or appended to.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

# Every setting that falls back to a random per-process value when unset.
SECRET_VARIABLES = ("SECURITY_JWT_SECRET", "THIRDPARTY_PSEUDONYM_SECRET")
# 48 random bytes -> 64 URL-safe characters: past both settings' 32-character minimum.
SECRET_BYTES = 48
FILE_MODE = 0o600
HEADER = (
    "# Written by `beatstream init`: secrets shared by every beatstream process on this\n"
    "# machine. Keep it private (mode 0600) and out of version control; .env.example\n"
    "# lists every other setting you may add here.\n"
)


@dataclass(frozen=True, slots=True)
class InitResult:
    path: Path
    created: bool
    # Secrets an existing file leaves unset or empty (never for a file just created).
    missing: tuple[str, ...] = ()


def render(values: dict[str, str]) -> str:
    return HEADER + "".join(f"{name}={value}\n" for name, value in values.items())


def generate_secrets() -> dict[str, str]:
    return {name: secrets.token_urlsafe(SECRET_BYTES) for name in SECRET_VARIABLES}


def missing_secrets(path: Path) -> tuple[str, ...]:
    """The secret variables `path` does not set to a non-empty value."""
    values = dotenv_values(path)
    return tuple(name for name in SECRET_VARIABLES if not values.get(name))


def init_env_file(path: Path) -> InitResult:
    """Create `path` with fresh secrets, mode 0600, unless it exists (then untouched)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return InitResult(path, created=False, missing=missing_secrets(path))
    try:
        # The mode given to open() is filtered by the umask; only narrower is possible,
        # but say exactly what the file gets.
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render(generate_secrets()))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # Half a file would pass for an operator's own on the next run and never be fixed.
        path.unlink(missing_ok=True)
        raise
    return InitResult(path, created=True)
