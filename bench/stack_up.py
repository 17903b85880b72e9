"""Seconds per store for `stack up`, cold (empty caches and data) then warm (caches kept).

Cold uses a fresh stack folder, download cache and Maven repository on other ports,
so it downloads and installs everything a fresh machine would (except Debian's
redis-server package when it is already installed: removing a system package is not
a benchmark's business; its install time is then reported as measured, near zero).
Warm stops that stack, wipes its data and starts it again from the caches.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench import report
from devstack.config import StackConfig
from devstack.manager import Stack, UpResult


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rows(phase: str, results: list[UpResult]) -> list[dict[str, Any]]:
    return [
        {
            "phase": phase,
            "store": r.name,
            "install_s": round(r.install_s, 2),
            "start_s": round(r.start_s, 2),
            "total_s": round(r.install_s + r.start_s, 2),
        }
        for r in results
    ]


def run() -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="bench-stack-", dir="/var/tmp"))
    scratch.chmod(0o755)
    config = StackConfig(
        home=scratch / "stack",
        cache=scratch / "cache",
        maven_repo=scratch / "m2",
        redis_port=_free_port(),
        elasticsearch_port=_free_port(),
        mongodb_port=_free_port(),
    )
    stack = Stack(config)
    try:
        cold = stack.up(report=print)
        stack.down(report=print)
        shutil.rmtree(config.home / "data", ignore_errors=True)
        warm = stack.up(report=print)
    finally:
        stack.down(report=print)
        shutil.rmtree(scratch, ignore_errors=True)
    table = _rows("cold", cold) + _rows("warm", warm)
    return report.write(
        "stack_up", {"cold": _rows("cold", cold), "warm": _rows("warm", warm)}, table
    )


if __name__ == "__main__":
    run()
