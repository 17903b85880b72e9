"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against the
app served by a real uvicorn on a free port over the real stores, seeded once per session.

One browser and one seeded app for the whole session (each test gets a fresh browser
context: no shared cookies, storage or history), so the browser tests cost seconds, not
minutes. Playwright never downloads a browser here: it drives `/usr/bin/chromium`
(`make browser` installs it). A second app instance answers with its Elasticsearch
client pointed at a port nothing listens on, for the "Elasticsearch down" test; the
shared Elasticsearch is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright

from beatstream.app import create_app
from beatstream.deps import get_es
from beatstream.search.indices import drop_prefix, ensure_search_indices
from beatstream.settings import Settings
from beatstream.stores.clients import create_es_client, create_mongo_client, create_redis_client
from tests.beatstream.analytics.data import (
    Row,
    build_plays,
    build_songs,
    index_plays,
    index_songs,
)
from tests.fixtures.ports import unused_port

T = TypeVar("T")
CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@dataclass(frozen=True)
class Seeded:
    songs: list[Row]
    plays: list[Row]


@dataclass(frozen=True)
class Served:
    url: str

    def api(self, path: str, **params: Any) -> dict[str, Any]:
        """What the public API answers: the numbers the page must show."""
        response = httpx.get(f"{self.url}{path}", params=params, timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="session")
def browser_settings(base_settings: Settings) -> Settings:
    """Settings of their own (database, index and key prefix), removed after the session."""
    tag = uuid.uuid4().hex[:10]
    return base_settings.model_copy(
        update={
            "mongodb": base_settings.mongodb.model_copy(update={"db": f"bs_test_{tag}"}),
            "elasticsearch": base_settings.elasticsearch.model_copy(
                update={"index_prefix": f"bs-test-{tag}"}
            ),
            "redis": base_settings.redis.model_copy(update={"key_prefix": f"bs:test:{tag}:"}),
        }
    )


def known_songs() -> list[Row]:
    """Songs the tests search for by name, among the random ones."""
    artist = {"id": ObjectId(), "name": "Mark Ronson"}
    return [
        {
            "_id": ObjectId(),
            "title": "Uptown Funk",
            "artist": artist,
            "genre": "funk",
            "duration_s": 270,
            "album": {"title": "Uptown Special", "release_year": 2014},
            "views_per_country": {"US": 50, "IT": 7},
        }
    ]


def in_own_loop(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run async store work on a fresh loop in a worker thread: Playwright's sync API
    keeps an event loop running on the test thread, so none can be run there."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()


async def _seed(settings: Settings) -> Seeded:
    songs = build_songs(random.Random("dashboard-songs"), artists=12, songs=120)
    stamps = {"created_at": songs[0]["created_at"], "updated_at": songs[0]["updated_at"]}
    songs += [{**row, **stamps} for row in known_songs()]
    plays = build_plays(random.Random("dashboard-plays"), songs, count=600)
    es = create_es_client(settings.elasticsearch)
    try:
        await ensure_search_indices(es, settings.elasticsearch)
        await index_songs(es, settings.elasticsearch.index_prefix, songs)
        await index_plays(es, settings.elasticsearch.index_prefix, plays, songs)
    finally:
        await es.close()
    return Seeded(songs, plays)


async def _drop(settings: Settings) -> None:
    es = create_es_client(settings.elasticsearch)
    mongo = create_mongo_client(settings.mongodb)
    redis = create_redis_client(settings.redis)
    try:
        await drop_prefix(es, settings.elasticsearch.index_prefix)
        await mongo.drop_database(settings.mongodb.db)
        match = f"{settings.redis.key_prefix}*"
        keys = [key async for key in redis.scan_iter(match=match, count=500)]
        if keys:
            await redis.delete(*keys)
    finally:
        await es.close()
        await mongo.close()
        await redis.aclose()


@pytest.fixture(scope="session")
def seeded(browser_settings: Settings) -> Iterator[Seeded]:
    try:
        yield in_own_loop(lambda: _seed(browser_settings))
    finally:
        in_own_loop(lambda: _drop(browser_settings))


@contextlib.contextmanager
def uvicorn_serving(app: FastAPI) -> Iterator[str]:
    """`app` on a real uvicorn in a thread (its own event loop), until the block ends."""
    port = unused_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the app did not start"
        assert time.monotonic() < deadline, "the app did not start within 60 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def served(browser_settings: Settings, seeded: Seeded) -> Iterator[Served]:
    with uvicorn_serving(create_app(browser_settings)) as url:
        yield Served(url)


@pytest.fixture(scope="session")
def served_without_es(browser_settings: Settings, seeded: Seeded) -> Iterator[Served]:
    """The same app, its Elasticsearch client aimed at a port nothing listens on, with a
    Redis prefix of its own (else the other app's cached answers would hide the outage)."""
    redis = browser_settings.redis
    settings = browser_settings.model_copy(
        update={"redis": redis.model_copy(update={"key_prefix": f"{redis.key_prefix}down:"})}
    )
    app = create_app(settings)
    dead = AsyncElasticsearch(f"http://127.0.0.1:{unused_port()}", max_retries=0)
    app.dependency_overrides[get_es] = lambda: dead
    with uvicorn_serving(app) as url:
        yield Served(url)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    with tempfile.TemporaryDirectory(prefix="bs-chromium-") as profile:
        async with async_playwright() as pw:
            launched = await pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
                # Playwright gives each launch a throwaway profile of its own (it refuses a
                # `--user-data-dir`); TMPDIR keeps it, and Chromium's other files, in ours.
                env={"TMPDIR": profile, "HOME": profile},
            )
            yield launched
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh context per test; any uncaught script error fails the test."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    tab = await context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.set_default_timeout(15_000)
    yield tab
    await context.close()
    assert errors == [], errors


async def ready(page: Page, url: str) -> None:
    """Open `url` and wait until the script has taken over and nothing is loading."""
    await page.goto(url)
    await page.wait_for_selector("body[data-ready=true]")
    await settle(page)


async def settle(page: Page) -> None:
    """Wait until no panel is loading (the script marks each with aria-busy)."""
    await page.wait_for_function(
        "() => document.querySelectorAll('[aria-busy=true]').length === 0"
        " && document.querySelector('#progress').textContent === ''"
    )
