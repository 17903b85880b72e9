"""`beatstream stack` as an operator runs it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.beatstream.cli.test_serve import run_cli
from tests.fixtures.ports import unused_port
from tests.fixtures.stores import ResolvedStore


def test_stack_up_names_a_port_that_is_already_taken(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = run_cli(
            "stack",
            "up",
            env={
                "BEATSTREAM_STACK_HOME": str(tmp_path / "stack"),
                "BEATSTREAM_STACK_REDIS_PORT": str(port),
                "BEATSTREAM_STACK_ELASTICSEARCH_PORT": str(unused_port()),
                "BEATSTREAM_STACK_MONGODB_PORT": str(unused_port()),
            },
        )

    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already taken" in result.stderr
    assert "Traceback" not in result.stderr


def test_stack_status_prints_versions_and_urls(
    resolved_stores: dict[str, ResolvedStore],
) -> None:
    if {s.source for s in resolved_stores.values()} != {"local stack"}:
        pytest.skip("the stores of this run are not the local stack")

    result = run_cli("stack", "status", env={})

    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    expected_urls = {
        "elasticsearch": "http://127.0.0.1:9200",
        "redis": "redis://127.0.0.1:6379/0",
        "mongodb": "mongodb://127.0.0.1:27017",
    }
    for store, url in expected_urls.items():
        assert "up (stack)" in lines[store]
        assert url in lines[store]


def test_stack_status_exits_1_when_servers_are_down(tmp_path: Path) -> None:
    result = run_cli(
        "stack",
        "status",
        env={
            "BEATSTREAM_STACK_HOME": str(tmp_path / "stack"),
            "BEATSTREAM_STACK_REDIS_PORT": str(unused_port()),
            "BEATSTREAM_STACK_ELASTICSEARCH_PORT": str(unused_port()),
            "BEATSTREAM_STACK_MONGODB_PORT": str(unused_port()),
        },
    )

    assert result.returncode == 1
    assert result.stdout.count("down (stopped)") == 3
