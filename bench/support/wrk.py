"""Load from outside the Python process: `wrk` (a C load generator), one thread.

A Python client saturates before the server does (its figures measure the client), so
HTTP rows are driven by `wrk -t1 -cN --latency`; a Lua `done` hook prints the totals,
the socket errors and the latency percentiles as one JSON line for this module to read.
wrk counts a status above 399 as an error (`errors.status`); each row checks first that
its URL answers 200, so no 3xx can slip through uncounted. A row with any error is
refused (`WrkResult.errors`), never reported.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d,'
    .. ' "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench does it)")
    return found


def run_wrk(url: str, *, connections: int, duration_s: int) -> WrkResult:
    """`wrk -t1 -c<connections> -d<duration_s>s --latency <url>`."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "done.lua")
        script.write_text(_DONE)
        completed = subprocess.run(
            [
                require_wrk(),
                "-t1",
                f"-c{connections}",
                f"-d{duration_s}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(x for x in completed.stdout.splitlines() if x.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    return WrkResult(
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1e6,
        non_2xx=raw["status"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
    )
