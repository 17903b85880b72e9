"""Typeahead latency over 10k songs, one client at a time (what a person typing sees).

Two rows from one run: the Elasticsearch completion query alone (`service.suggest`,
every prefix distinct, so nothing is cached), and `GET /v1/search/suggest` through the
whole app in-process (httpx ASGI transport, Redis cache on: a first pass of distinct
prefixes misses, the second pass over the same prefixes hits).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from beatstream.app import create_app
from beatstream.search import service
from beatstream.search.indices import SONGS, drop_prefix, ensure_search_indices
from beatstream.search.repository import bulk_index_songs
from beatstream.settings import RedisSettings
from beatstream.stores.clients import create_es_client
from bench import report
from bench.support.stores import stack_settings
from seed.rows import song_row

SONGS_TOTAL = 10_000
PREFIXES = 300


async def _measure() -> list[dict[str, Any]]:
    scratch = uuid.uuid4().hex[:6]
    base = stack_settings()
    settings = base.model_copy(
        update={
            "elasticsearch": base.elasticsearch.model_copy(
                update={"index_prefix": f"bench-suggest-{scratch}", "manage_indices": True}
            ),
            "redis": RedisSettings(url=base.redis.url, key_prefix=f"bench-suggest-{scratch}:"),
        }
    )
    es = create_es_client(settings.elasticsearch)
    alias = SONGS.alias(settings.elasticsearch.index_prefix)
    rng = random.Random(42)
    try:
        await ensure_search_indices(es, settings.elasticsearch)
        rows = [song_row(rng) for _ in range(SONGS_TOTAL)]
        await bulk_index_songs(es, alias, rows, refresh=True)
        names = {r["artist"]["name"].lower() for r in rows} | {r["title"].lower() for r in rows}
        candidates = sorted({name[:length] for name in names for length in (2, 3, 4)})
        prefixes = rng.sample(candidates, min(PREFIXES, len(candidates)))

        direct = []
        for prefix in prefixes:
            started = time.perf_counter()
            await service.suggest(es, alias, prefix, 5)
            direct.append((time.perf_counter() - started) * 1000)

        app = create_app(settings)
        passes: dict[str, list[float]] = {"miss": [], "hit": []}
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                for label in ("miss", "hit"):
                    for prefix in prefixes:
                        started = time.perf_counter()
                        response = await http.get("/v1/search/suggest", params={"prefix": prefix})
                        passes[label].append((time.perf_counter() - started) * 1000)
                        assert response.headers["x-cache"] == label, response.headers["x-cache"]
        rows_out = [
            ("Elasticsearch completion query", direct),
            ("GET /v1/search/suggest, cache miss", passes["miss"]),
            ("GET /v1/search/suggest, cache hit", passes["hit"]),
        ]
        return [
            {
                "path": name,
                "songs": SONGS_TOTAL,
                "requests": len(t),
                "p50_ms": round(report.percentile(t, 50), 2),
                "p99_ms": round(report.percentile(t, 99), 2),
            }
            for name, t in rows_out
        ]
    finally:
        await drop_prefix(es, settings.elasticsearch.index_prefix)
        await es.close()


def run() -> Path:
    rows = asyncio.run(_measure())
    return report.write("suggest_latency", {"rows": rows}, rows)


if __name__ == "__main__":
    run()
