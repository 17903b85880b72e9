"""The stack's process management, on real redis-server processes in a private stack folder."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.config import StackConfig
from devstack.manager import Stack
from devstack.process import ManagedProcess, StackError
from tests.fixtures.ports import unused_port
from tests.fixtures.servers import DisposableRedis


@pytest.fixture
def redis_stack(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(
        StackConfig(
            home=tmp_path / "stack",
            cache=tmp_path / "cache",
            redis_port=unused_port(),
            start_timeout_s=20,
        ),
        only={"redis"},
    )
    yield stack
    stack.down(report=lambda _line: None)


def _quiet(_line: str) -> None:
    return None


def test_up_twice_runs_one_server(redis_stack: Stack) -> None:
    first = redis_stack.up(report=_quiet)
    pid = redis_stack.process(redis_stack.servers[0]).record()
    second = redis_stack.up(report=_quiet)

    assert [r.action for r in first] == ["started"]
    assert [r.action for r in second] == ["already running"]
    assert redis_stack.process(redis_stack.servers[0]).record() == pid
    assert redis_stack.is_up()


def test_down_stops_what_it_started_and_only_that(
    redis_stack: Stack, disposable_redis: DisposableRedis
) -> None:
    redis_stack.up(report=_quiet)
    record = redis_stack.process(redis_stack.servers[0]).record()
    assert record is not None

    assert redis_stack.down(report=_quiet) == ["redis"]

    assert not record.is_alive()
    assert disposable_redis.process.poll() is None, "a redis-server we did not start was stopped"
    assert redis_stack.down(report=_quiet) == []


def test_a_recycled_pid_is_never_signalled(tmp_path: Path) -> None:
    """A pid file whose pid now belongs to another program is stale, not a target."""
    process = ManagedProcess("redis", tmp_path / "run", tmp_path / "logs")
    process.pid_file.parent.mkdir(parents=True)
    process.pid_file.write_text(
        json.dumps({"pid": os.getpid(), "marker": "redis-server", "port": 6379})
    )

    assert process.record() is None
    assert process.stop() is False
    assert not process.pid_file.exists()


def test_a_taken_port_is_named(redis_stack: Stack) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", redis_stack.config.redis_port))
        squatter.listen()
        with pytest.raises(
            StackError, match=f"port {redis_stack.config.redis_port} .* already taken"
        ):
            redis_stack.up(report=_quiet)

    assert redis_stack.process(redis_stack.servers[0]).record() is None


def test_a_server_that_dies_while_starting_reports_its_log(redis_stack: Stack) -> None:
    process = redis_stack.process(redis_stack.servers[0])
    with pytest.raises(StackError, match="exited with code"):
        process.start(
            ["redis-server", "--port", "not-a-port"],
            marker="redis-server",
            host="127.0.0.1",
            port=redis_stack.config.redis_port,
            ready=lambda: False,
            timeout_s=10,
        )
    assert process.record() is None


def test_unknown_server_names_are_refused() -> None:
    with pytest.raises(StackError, match="unknown stack server"):
        Stack(only={"postgres"})
