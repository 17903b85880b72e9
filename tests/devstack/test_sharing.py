"""Two test runs on one machine share the stack: the last to leave stops what a test run
started, nobody stops what was started by hand, and exclusive users take turns.

`flock` locks belong to open files, so two `use()` blocks in one process contend exactly
as two processes would; the one subprocess test shows a killed run leaves no lease."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from devstack.sharing import SharedServers


class FakeServers:
    """Records the calls; `running` says whether `start` finds them up already."""

    def __init__(self, running: bool = False) -> None:
        self.running = running
        self.stopped: list[set[str]] = []

    def start(self) -> set[str]:
        if self.running:
            return set()
        self.running = True
        return {"redis", "elasticsearch"}

    def stop(self, names: set[str]) -> None:
        self.running = False
        self.stopped.append(names)


def test_the_last_run_to_leave_stops_what_a_test_run_started(tmp_path: Path) -> None:
    servers = FakeServers()
    shared = SharedServers(tmp_path, "stack")

    with shared.use(servers.start, servers.stop, report=lambda _line: None):
        with shared.use(servers.start, servers.stop, report=lambda _line: None):
            pass
        assert servers.stopped == []  # the starter is still inside
        assert servers.running
    assert servers.stopped == [{"redis", "elasticsearch"}]


def test_the_starter_leaving_first_does_not_stop_them_under_another_run(tmp_path: Path) -> None:
    servers = FakeServers()
    shared = SharedServers(tmp_path, "stack")
    first = shared.use(servers.start, servers.stop, report=lambda _line: None)
    second = shared.use(servers.start, servers.stop, report=lambda _line: None)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert servers.stopped == []
    assert servers.running
    second.__exit__(None, None, None)
    assert servers.stopped == [{"redis", "elasticsearch"}]


def test_servers_started_by_hand_are_never_stopped(tmp_path: Path) -> None:
    servers = FakeServers(running=True)

    with SharedServers(tmp_path, "stack").use(servers.start, servers.stop):
        pass

    assert servers.stopped == []
    assert servers.running


def test_keep_leaves_them_running_for_a_later_run_to_stop(tmp_path: Path) -> None:
    servers = FakeServers()
    shared = SharedServers(tmp_path, "stack")

    with shared.use(servers.start, servers.stop, keep=True):
        pass
    assert servers.stopped == []
    with shared.use(servers.start, servers.stop):
        pass
    assert servers.stopped == [{"redis", "elasticsearch"}]


def test_an_exclusive_user_waits_until_the_other_has_left(tmp_path: Path) -> None:
    servers = FakeServers()
    shared = SharedServers(tmp_path, "cluster")
    waiting = threading.Event()
    events: list[str] = []

    def second_run() -> None:
        with shared.use(
            servers.start, servers.stop, exclusive=True, report=lambda _l: waiting.set()
        ):
            events.append("second entered")

    with shared.use(servers.start, servers.stop, exclusive=True):
        thread = threading.Thread(target=second_run)
        thread.start()
        assert waiting.wait(timeout=30), "the second run never reported that it waits"
        events.append("first leaving")
    thread.join(timeout=30)

    assert events == ["first leaving", "second entered"]
    # Whichever left last (the first may stop them before the second restarts them),
    # nothing a test run started is left running.
    assert servers.stopped
    assert not servers.running


def test_a_killed_run_leaves_no_lease_behind(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, pathlib;"
            f"f = open({str(tmp_path / 'stack.users.lock')!r}, 'a');"
            "fcntl.flock(f, fcntl.LOCK_SH); print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    servers = FakeServers()
    shared = SharedServers(tmp_path, "stack")

    entered = shared.use(servers.start, servers.stop)
    entered.__enter__()
    holder.kill()
    holder.wait()
    entered.__exit__(None, None, None)

    assert servers.stopped == [{"redis", "elasticsearch"}]
