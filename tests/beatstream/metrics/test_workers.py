"""`/metrics` of `beatstream serve --workers 2`, end to end: whichever worker answers a
scrape, it reports every worker's requests (prometheus-client's multiprocess mode plus
the tally's hand-over, docs/observability.md "Several workers")."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from beatstream.settings import Settings
from bench.support.processes import process_env
from tests.fixtures.servers import serve_api

READY = re.compile(
    r'^beatstream_http_requests_total\{method="GET",route="/health/ready",status_class="2xx"\} '
    r"([0-9.e+]+)$",
    re.MULTILINE,
)
REQUESTS = 60
SCRAPES = 8


def ready_count(body: str) -> int:
    found = READY.search(body)
    return int(float(found[1])) if found else 0


def test_every_scrape_counts_every_workers_requests(
    settings: Settings, redis_prefix: str, tmp_path: Path
) -> None:
    env = process_env(
        settings,
        ELASTICSEARCH_MANAGE_INDICES="false",
        SECURITY_JWT_SECRET="j" * 32,
        THIRDPARTY_PSEUDONYM_SECRET="p" * 32,
        SECURITY_PASSWORD_MEMORY_KIB="1024",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
    )
    with serve_api(env, workers=2) as api:
        # A new connection per request, so the kernel hands them to either worker.
        answered = sum(
            httpx.get(f"{api.url}/health/ready", timeout=10).status_code == 200
            for _ in range(REQUESTS)
        )
        # The counts reach the shared files within the tally's 1 s hand-over.
        deadline = time.monotonic() + 30
        while ready_count(httpx.get(f"{api.url}/metrics", timeout=10).text) < answered:
            assert time.monotonic() < deadline, "the workers' counts never reached a scrape"
            time.sleep(0.2)
        counts = {
            ready_count(httpx.get(f"{api.url}/metrics", timeout=10).text) for _ in range(SCRAPES)
        }
        writers = {path.stem.rsplit("_", 1)[-1] for path in tmp_path.glob("*.db")}

    assert answered == REQUESTS
    assert len(writers) >= 2, f"one worker wrote metrics files: {sorted(writers)}"
    # Every scrape, whichever worker served it, gives the exact total: each worker sums
    # every worker's files, and nothing else asked for /health/ready.
    assert counts == {REQUESTS}
