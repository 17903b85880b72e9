"""The search dashboard in headless Chromium: first load and a facet click, with warm caches.

One `beatstream serve` process (one worker) on scratch prefixes of the running stack.
Songs (seed builders, `Random(42)`) and plays go straight into Elasticsearch through
`song_document` / `play_document`. Sizes: `BENCH_DASHBOARD_SONGS` and
`BENCH_DASHBOARD_PLAYS` (the issue's 50,000 and 1,000,000 by default; the result
records what was measured).

Timings come from the page's own Performance API marks (`dashboard.js`):
`dashboard:ready` when the script has wired the page (interactive), `dashboard:idle`
each time no request is in flight. So:

- first load to interactive: navigation start -> `dashboard:ready`;
- first load complete: navigation start -> the last `dashboard:idle` (results, facets
  and all four charts drawn);
- facet click to updated results: the click (timestamped in the page) -> the next
  `dashboard:idle` (results, facets and pills redrawn; the URL pushed).

Each load is a new browser context (empty browser cache: every asset is fetched);
the API's Redis cache is warmed by one untimed round first, which is the issue's
"warm caches". Page weight is the bytes of the HTML, JavaScript and CSS the page
loads (uncompressed: the API serves no compression), plus the first load's API JSON.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from elasticsearch.helpers import async_bulk
from playwright.async_api import Browser, async_playwright

from beatstream.search.indices import SONGS, play_document, plays_index, song_document
from beatstream.settings import Settings
from beatstream.stores.clients import create_es_client
from bench import report
from bench.support.processes import process_env, served
from bench.support.stores import drop_scratch, scratch_settings
from seed.builders import COUNTRIES, artist_payload, song_payload

SONGS_COUNT = int(os.environ.get("BENCH_DASHBOARD_SONGS", "50000"))
PLAYS_COUNT = int(os.environ.get("BENCH_DASHBOARD_PLAYS", "1000000"))
LOADS = int(os.environ.get("BENCH_DASHBOARD_LOADS", "20"))
CLICKS = int(os.environ.get("BENCH_DASHBOARD_CLICKS", "40"))
PLAYS_END = datetime(2024, 12, 1, tzinfo=UTC)
PLAYS_DAYS = 365
PAGE = "/dashboard?q=night"
FACET = "#genre-facets li:first-child a"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _songs(rng: random.Random) -> list[dict[str, Any]]:
    artists = [{"id": ObjectId(), "name": artist_payload(rng)["name"]} for _ in range(2_000)]
    rows = []
    for _ in range(SONGS_COUNT):
        artist = rng.choice(artists)
        payload = song_payload(rng, str(artist["id"]))
        payload.pop("artist_id")
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        rows.append(
            {
                "_id": ObjectId(),
                **payload,
                "artist": artist,
                "created_at": moment,
                "updated_at": moment,
            }
        )
    return rows


async def _index(settings: Settings, songs: list[dict[str, Any]], rng: random.Random) -> None:
    es = create_es_client(settings.elasticsearch)
    prefix = settings.elasticsearch.index_prefix
    try:
        actions: Any = (
            {"_index": SONGS.alias(prefix), "_id": str(r["_id"]), "_source": song_document(r)}
            for r in songs
        )
        await async_bulk(es, actions, chunk_size=2_000, refresh=True)
        start = PLAYS_END - timedelta(days=PLAYS_DAYS)

        def plays() -> Any:
            for _ in range(PLAYS_COUNT):
                song = songs[min(int(rng.paretovariate(1.1)) - 1, len(songs) - 1)]
                played_at = start + timedelta(seconds=rng.randrange(PLAYS_DAYS * 86_400))
                row = {
                    "_id": ObjectId(),
                    "listener_id": ObjectId(),
                    "song_id": song["_id"],
                    "country": rng.choice(COUNTRIES),
                    "played_at": played_at,
                    "ms_played": rng.randint(0, 300_000),
                }
                yield {
                    "_index": plays_index(prefix, played_at.year, played_at.month),
                    "_id": str(row["_id"]),
                    "_source": play_document(row, song),
                }

        await async_bulk(es, plays(), chunk_size=5_000, refresh=True)
    finally:
        await es.close()


async def _load(browser: Browser, url: str) -> dict[str, float]:
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    try:
        await page.goto(url)
        await page.wait_for_selector("body[data-ready=true]")
        await page.wait_for_function(
            "() => document.querySelectorAll('[aria-busy=true]').length === 0"
            " && performance.getEntriesByName('dashboard:idle').length > 0"
        )
        marks: dict[str, float] = await page.evaluate(
            "() => ({ready: performance.getEntriesByName('dashboard:ready')[0].startTime,"
            " idle: performance.getEntriesByName('dashboard:idle').at(-1).startTime})"
        )
        return marks
    finally:
        await context.close()


async def _clicks(browser: Browser, url: str, count: int) -> list[float]:
    """Toggle the first genre facet on and off `count` times; each click to idle, in ms."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    timings: list[float] = []
    try:
        await page.goto(url)
        await page.wait_for_selector("body[data-ready=true]")
        await page.wait_for_function(
            "() => document.querySelectorAll('[aria-busy=true]').length === 0"
        )
        for _ in range(count):
            started: float = await page.evaluate(
                "(sel) => { const t = performance.now();"
                " document.querySelector(sel).click(); return t; }",
                FACET,
            )
            await page.wait_for_function(
                "(t) => performance.getEntriesByName('dashboard:idle').some(e => e.startTime > t)",
                arg=started,
            )
            done: float = await page.evaluate(
                "() => performance.getEntriesByName('dashboard:idle').at(-1).startTime"
            )
            timings.append(done - started)
    finally:
        await context.close()
    return timings


def _weight(base_url: str) -> dict[str, int]:
    html = httpx.get(base_url + PAGE, timeout=30)
    assets = {"js": 0, "css": 0}
    for path in (
        "/dashboard/static/dashboard.js",
        "/dashboard/static/vendor/uPlot.iife.min.js",
        "/dashboard/static/dashboard.css",
        "/dashboard/static/vendor/uPlot.min.css",
    ):
        assets["js" if path.endswith(".js") else "css"] += len(httpx.get(base_url + path).content)
    return {"html": len(html.content), **assets, "total": len(html.content) + sum(assets.values())}


async def _measure(base_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-chromium-") as profile:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=CHROMIUM_ARGS,
                env={"TMPDIR": profile, "HOME": profile},
            )
            try:
                await _load(browser, base_url + PAGE)  # warms the API's caches
                await _clicks(browser, base_url + PAGE, 2)
                loads = [await _load(browser, base_url + PAGE) for _ in range(LOADS)]
                clicks = await _clicks(browser, base_url + PAGE, CLICKS)
            finally:
                await browser.close()
    return {"loads": loads, "clicks": clicks}


def _row(name: str, values: list[float], target_ms: float | None) -> dict[str, Any]:
    return {
        "measure": name,
        "runs": len(values),
        "median_ms": round(report.median(values), 1),
        "p95_ms": round(report.percentile(values, 95), 1),
        "target_ms": target_ms if target_ms is not None else "-",
    }


async def _cleanup(settings: Settings) -> None:
    await drop_scratch(settings, settings.elasticsearch.index_prefix)


def run() -> Path:
    settings = scratch_settings("dashboard")
    env = process_env(settings, ELASTICSEARCH_MANAGE_INDICES="true")
    try:
        with served(env) as base_url:  # creates the scratch indices at start
            rng = random.Random(42)
            asyncio.run(_index(settings, _songs(rng), rng))
            measured = asyncio.run(_measure(base_url))
            weight = _weight(base_url)
    finally:
        asyncio.run(_cleanup(settings))
    loads = measured["loads"]
    table = [
        _row("first load to interactive", [m["ready"] for m in loads], 1000),
        _row("first load complete (results + 4 charts)", [m["idle"] for m in loads], None),
        _row("facet click to updated results", measured["clicks"], 300),
    ]
    result = {
        "songs": SONGS_COUNT,
        "plays": PLAYS_COUNT,
        "page": PAGE,
        "page_weight_bytes": weight,
        "raw_ms": {
            "interactive": [round(m["ready"], 1) for m in loads],
            "complete": [round(m["idle"], 1) for m in loads],
            "facet_click": [round(v, 1) for v in measured["clicks"]],
        },
    }
    table.append(
        {
            "measure": f"page weight: HTML {weight['html']:,} + JS {weight['js']:,} + CSS "
            f"{weight['css']:,} bytes",
            "runs": 1,
            "median_ms": "-",
            "p95_ms": "-",
            "target_ms": f"{weight['total']:,} bytes",
        }
    )
    return report.write("dashboard", result, table)


if __name__ == "__main__":
    run()
