"""Test runs that share one machine's stack without stopping it under each other.

The stack's servers listen on fixed ports and keep their pid files in one folder, so
every test run on a machine uses the same servers: two `make test` runs at once (two
checkouts, or a developer's run beside CI's) find each other's servers already up.
"Stop only what this run started" is then wrong: the run that started the servers
stops them while the other is half-way through its tests, and the other fails with
refused connections or a node that vanished while its clusters formed.

So the servers' lifetime is tied to their users instead of their starter:
- each run holds a shared `flock` on `<name>.users.lock` while it uses the servers
  (the kernel drops it when the run ends, even by SIGKILL: no stale leases);
- starting and stopping happen under an exclusive `<name>.start.lock`, and the names
  a test run started are written to `<name>.started`;
- a run that leaves stops the servers in `<name>.started` only if it can take the
  users lock exclusively, i.e. nobody else holds it. Servers started by hand
  (`beatstream stack up`) are never in that file, so no test run stops them.

`exclusive=True` makes the users lock exclusive for the whole use: a second run waits
until the first has left. The cluster pass needs it, because its failure tests kill
nodes, which another run's tests would see as failures of their own.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

Reporter = Callable[[str], None]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


class SharedServers:
    def __init__(self, run_dir: Path, name: str) -> None:
        self.run_dir = run_dir
        self.name = name
        self.users_lock = run_dir / f"{name}.users.lock"
        self.start_lock = run_dir / f"{name}.start.lock"
        self.started_file = run_dir / f"{name}.started"

    @contextlib.contextmanager
    def use(
        self,
        start: Callable[[], set[str]],
        stop: Callable[[set[str]], object],
        *,
        exclusive: bool = False,
        keep: bool = False,
        report: Reporter = print,
    ) -> Iterator[None]:
        """Hold the servers for the body. `start` starts what is not running and returns
        the names it started; `stop` stops the given names. `keep`: leave them running
        even when this run is the last user (they are still stopped by a later run)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self.users_lock.open("a") as users:
            self._join(users, exclusive, report)
            try:
                with _locked(self.start_lock):
                    self._remember(start())
                yield
            finally:
                with _locked(self.start_lock):
                    if self._last_to_leave(users) and not keep:
                        started = self._recall()
                        if started:
                            stop(started)
                        self.started_file.unlink(missing_ok=True)

    def _join(self, users: IO[str], exclusive: bool, report: Reporter) -> None:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(users, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            report(f"{self.name}: another test run is using these servers; waiting for it")
            fcntl.flock(users, mode)

    @staticmethod
    def _last_to_leave(users: IO[str]) -> bool:
        fcntl.flock(users, fcntl.LOCK_UN)
        try:
            # Non-blocking: a run joining now waits on this lock only while we stop.
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _recall(self) -> set[str]:
        try:
            return set(json.loads(self.started_file.read_text()))
        except (OSError, ValueError):
            return set()

    def _remember(self, started: set[str]) -> None:
        if started:
            names = sorted(self._recall() | started)
            self.started_file.write_text(json.dumps(names))


__all__ = ["SharedServers"]
