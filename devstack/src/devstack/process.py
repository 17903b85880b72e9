"""Start, find and stop the stack's server processes by pid file, never by name.

A pid file records the pid and the executable we launched; a pid is trusted only
while `/proc/<pid>/cmdline` still names that executable, so a recycled pid is never
signalled and a server someone else started is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """A stack operation failed; the message is one line meant for an operator."""


@dataclass(frozen=True, slots=True)
class PidRecord:
    pid: int
    marker: str
    port: int

    def is_alive(self) -> bool:
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return False
        return self.marker.encode() in cmdline


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class ManagedProcess:
    """One server process of the stack, addressed by its name's pid file."""

    def __init__(self, name: str, run_dir: Path, log_dir: Path) -> None:
        self.name = name
        self.pid_file = run_dir / f"{name}.pid"
        self.log_file = log_dir / f"{name}.log"

    def record(self) -> PidRecord | None:
        """The live process we started, or None (a stale pid file is removed)."""
        try:
            raw = json.loads(self.pid_file.read_text())
            record = PidRecord(
                pid=int(raw["pid"]), marker=str(raw["marker"]), port=int(raw["port"])
            )
        except (OSError, ValueError, KeyError):
            return None
        if record.is_alive():
            return record
        self.pid_file.unlink(missing_ok=True)
        return None

    def start(
        self,
        argv: Sequence[str],
        *,
        marker: str,
        host: str,
        port: int,
        ready: Callable[[], bool],
        timeout_s: float,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        preexec_user: tuple[int, int] | None = None,
    ) -> PidRecord:
        if port_in_use(host, port):
            raise StackError(
                f"{self.name}: port {port} on {host} is already taken by another process; "
                f"stop it or choose another port (BEATSTREAM_STACK_{self.name.upper()}_PORT)"
            )
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,
                user=preexec_user[0] if preexec_user else None,
                group=preexec_user[1] if preexec_user else None,
                extra_groups=[] if preexec_user else None,
            )
        record = PidRecord(pid=proc.pid, marker=marker, port=port)
        self.pid_file.write_text(json.dumps({"pid": proc.pid, "marker": marker, "port": port}))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise StackError(
                    f"{self.name} exited with code {proc.returncode} while starting; "
                    f"last log lines:\n{self.log_tail()}"
                )
            if ready():
                return record
            time.sleep(0.25)
        self.stop()
        raise StackError(
            f"{self.name} did not become ready within {timeout_s:g}s; see {self.log_file}"
        )

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the process we started (then SIGKILL after `timeout_s`); False if none ran."""
        record = self.record()
        if record is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while record.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if record.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record.pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
