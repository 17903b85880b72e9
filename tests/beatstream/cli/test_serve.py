"""`beatstream serve` as an operator runs it: a real process, its exit code and its stderr."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.fixtures.ports import unused_port
from tests.fixtures.stores import ResolvedStore


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beatstream", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
        check=False,
    )


def test_serve_exits_with_one_clear_line_when_a_store_is_unreachable(
    resolved_stores: dict[str, ResolvedStore],
) -> None:
    dead = unused_port()
    result = run_cli(
        "serve",
        env={
            "MONGODB_URL": f"mongodb://app:topsecret@127.0.0.1:{dead}/?directConnection=true",
            "MONGODB_CONNECT_TIMEOUT_MS": "500",
            "ELASTICSEARCH_URL": resolved_stores["elasticsearch"].url,
            "REDIS_URL": resolved_stores["redis"].url,
            "API_PORT": str(unused_port()),
        },
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "topsecret" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if "cannot start" in line]
    assert len(errors) == 1
    assert f"mongodb unreachable at mongodb://app:***@127.0.0.1:{dead}/" in errors[0]
