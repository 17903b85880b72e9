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


def serve_with_mongo_url(
    mongo_url: str, resolved_stores: dict[str, ResolvedStore]
) -> subprocess.CompletedProcess[str]:
    """`beatstream serve` with the given MongoDB URL and the session's other stores."""
    return run_cli(
        "serve",
        env={
            "MONGODB_URL": mongo_url,
            "MONGODB_SERVER_SELECTION_TIMEOUT_MS": "500",
            "ELASTICSEARCH_URL": resolved_stores["elasticsearch"].url,
            "REDIS_URL": resolved_stores["redis"].url,
            "API_PORT": str(unused_port()),
        },
    )


def test_serve_exits_with_one_clear_line_when_a_store_is_unreachable(
    resolved_stores: dict[str, ResolvedStore],
) -> None:
    dead = unused_port()
    result = serve_with_mongo_url(
        f"mongodb://app:topsecret@127.0.0.1:{dead}/?directConnection=true", resolved_stores
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "topsecret" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if "cannot start" in line]
    assert len(errors) == 1
    assert f"mongodb unreachable at mongodb://app:***@127.0.0.1:{dead}/" in errors[0]


def test_serve_names_the_variable_of_a_malformed_url() -> None:
    result = run_cli("serve", env={"REDIS_URL": "http://:hunter2@cache:6379"})

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: invalid setting REDIS_URL: Value error, 'http://:***@cache:6379' must start "
        "with redis:// or rediss:// or unix://"
    ]


def test_serve_rejects_a_url_its_client_cannot_parse(
    resolved_stores: dict[str, ResolvedStore],
) -> None:
    result = serve_with_mongo_url("mongodb://app:topsecret@db:notaport/", resolved_stores)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "topsecret" not in result.stderr
    assert "mongodb unreachable at mongodb://app:***@db:notaport/: invalid URL" in result.stderr


def test_several_workers_refuse_to_start_without_shared_secrets() -> None:
    """Checked before any store is contacted: exit 2 naming both variables."""
    result = run_cli(
        "serve",
        "--workers",
        "2",
        env={"SECURITY_JWT_SECRET": "", "THIRDPARTY_PSEUDONYM_SECRET": ""},
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --workers > 1 needs SECURITY_JWT_SECRET and THIRDPARTY_PSEUDONYM_SECRET set"
    ]


def test_several_workers_name_only_the_missing_secret() -> None:
    result = run_cli(
        "serve",
        "--workers",
        "2",
        env={"SECURITY_JWT_SECRET": "j" * 32, "THIRDPARTY_PSEUDONYM_SECRET": ""},
    )

    assert result.returncode == 2
    assert "THIRDPARTY_PSEUDONYM_SECRET" in result.stderr
    assert "SECURITY_JWT_SECRET" not in result.stderr
