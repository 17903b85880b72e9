"""What every stack server provides: install (cached), a command line, a readiness check."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from devstack.config import StackConfig
from devstack.process import StackError

SERVICE_USER = "beatstream"


@dataclass(frozen=True, slots=True)
class LaunchPlan:
    argv: list[str]
    marker: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: tuple[int, int] | None = None


class StackServer(ABC):
    name: str
    implementation: str

    def __init__(self, config: StackConfig) -> None:
        self.config = config

    @property
    def port(self) -> int:
        """Each server's port is the `BEATSTREAM_STACK_<NAME>_PORT` setting."""
        port: int = getattr(self.config, f"{self.name}_port")
        return port

    @property
    @abstractmethod
    def url(self) -> str: ...

    @abstractmethod
    def install(self) -> None:
        """Make the server runnable; a no-op when the cache already has it."""

    @abstractmethod
    def launch_plan(self) -> LaunchPlan: ...

    @abstractmethod
    def is_ready(self) -> bool: ...

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir(self.name)


def run_checked(
    argv: list[str],
    what: str,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout_s: float = 1800,
) -> str:
    """Run an install step; on failure raise one line plus the tail of its output."""
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except FileNotFoundError as exc:
        raise StackError(f"{what}: {argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"{what}: timed out after {timeout_s:g}s") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-12:])
        raise StackError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def maven(config: StackConfig, *goal_and_args: str, what: str, cwd: Path | None = None) -> None:
    """Run Maven against the stack's local repository (the download cache)."""
    run_checked(
        ["mvn", "-q", "-B", f"-Dmaven.repo.local={config.maven_repo}", *goal_and_args],
        what,
        cwd=cwd,
    )


def http_ok(url: str, timeout_s: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - loopback URL
            return bool(200 <= response.status < 300)
    except OSError:
        return False


def tcp_exchange(host: str, port: int, payload: bytes, timeout_s: float = 1.0) -> bytes:
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(payload)
            return sock.recv(256)
    except OSError:
        return b""


def service_user() -> tuple[int, int] | None:
    """Servers that refuse to run as root (Elasticsearch) run as an unprivileged user.

    Returns None when we are not root (we then run servers as ourselves); as root it
    creates the `beatstream` system user on first use.
    """
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        run_checked(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            f"create the {SERVICE_USER} user",
        )
        entry = pwd.getpwnam(SERVICE_USER)
    return entry.pw_uid, entry.pw_gid


def chown_tree(path: Path, user: tuple[int, int] | None) -> None:
    if user is None:
        return
    uid, gid = user
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)
