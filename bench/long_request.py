"""One anonymous over-long request against a real `beatstream serve`: before and after.

`GET /health/live?x=` + 64,000 letters used to stall the whole process: the access
log line went through a credential-redaction regex that is quadratic on a run of
letters, and logging is synchronous, so every other request waited. This runs, side by
side in one run, the code as it was (`BEFORE_REV`, the commit before the fix,
extracted with `git archive` and put first on `PYTHONPATH`) and the working tree, each
as its own server process (one uvicorn worker, access log on as shipped: LOG_LEVEL=INFO),
plus the working tree with the URL cap lifted, which isolates the redaction fix.

Per server: a normal `GET /health/live` alone (median of 20), then `ROUNDS` rounds of
the long request with a normal request sent 20 ms after it on another connection; the
normal request's latency is what every other client of the process would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench import report
from bench.support.processes import process_env, served
from bench.support.stores import drop_scratch_db, stack_settings

BEFORE_REV = os.environ.get("BENCH_BEFORE_REV", "a151b25")
LETTERS = 64_000
ROUNDS = 3
ALONE = 20
LIVE = "/health/live"
LONG = f"{LIVE}?x=" + "a" * LETTERS


@contextlib.contextmanager
def _code_at(rev: str) -> Iterator[str]:
    """The service as of `rev` in a scratch folder, which the server runs in.

    `platform/` and the top-level packages it imports (`pipelines`, `seed`) come from
    the same commit, so an old service never meets newer pipeline code (`python -m`
    puts its working folder first on the import path, hence the folder)."""
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-before-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", rev, "platform", "pipelines", "seed"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        yield folder


async def _timed(http: httpx.AsyncClient, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = await http.get(path)
    return (time.perf_counter() - started) * 1000, response.status_code


async def _measure(base_url: str) -> dict[str, Any]:
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=300) as attacker,
        httpx.AsyncClient(base_url=base_url, timeout=300) as other,
    ):
        await _timed(other, LIVE)  # warm-up
        alone = [(await _timed(other, LIVE))[0] for _ in range(ALONE)]
        long_ms, during_ms, long_status = [], [], 0
        for _ in range(ROUNDS):

            async def normal_after_it() -> tuple[float, int]:
                await asyncio.sleep(0.02)
                return await _timed(other, LIVE)

            (took, long_status), (normal, _) = await asyncio.gather(
                _timed(attacker, LONG), normal_after_it()
            )
            long_ms.append(took)
            during_ms.append(normal)
    return {
        "normal_alone_p50_ms": round(report.median(alone), 2),
        "long_request_p50_ms": round(report.median(long_ms), 2),
        "long_request_status": long_status,
        "normal_during_long_p50_ms": round(report.median(during_ms), 2),
        "normal_during_long_max_ms": round(max(during_ms), 2),
    }


def run() -> Path:
    settings = stack_settings()
    env = process_env(settings, LOG_LEVEL="INFO", ELASTICSEARCH_MANAGE_INDICES="false")
    rows = []
    try:
        with _code_at(BEFORE_REV) as before:
            before_path = os.pathsep.join([str(Path(before) / "platform"), before])
            for name, extra, cwd in (
                (f"before ({BEFORE_REV})", {"PYTHONPATH": before_path}, before),
                ("after (working tree)", {}, None),
                # The URL cap lifted: the long line reaches the app and the access log,
                # so this row is the redaction fix alone.
                ("after, API_MAX_URL_BYTES=65536", {"API_MAX_URL_BYTES": "65536"}, None),
            ):
                with served({**env, **extra}, cwd=cwd) as base_url:
                    rows.append({"code": name, **asyncio.run(_measure(base_url))})
    finally:
        drop_scratch_db(settings)
    return report.write(
        "long_request", {"letters": LETTERS, "rounds": ROUNDS, "before_rev": BEFORE_REV}, rows
    )


if __name__ == "__main__":
    run()
