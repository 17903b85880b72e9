"""Analytics fixtures: the app over freshly created indices, songs and plays indexed."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest
from elasticsearch import AsyncElasticsearch

from beatstream.app import create_app
from beatstream.search.indices import ensure_search_indices
from beatstream.settings import Settings
from tests.beatstream.analytics.data import Row, build_plays, build_songs, index_plays, index_songs
from tests.fixtures.app import running


@pytest.fixture
async def analytics_client(
    settings: Settings,
    es_client: AsyncElasticsearch,
    mongo_db: object,
    es_prefix: str,
    redis_prefix: str,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on this test's prefixes, its search indices and plays template created first.

    Created here rather than by the app's start-up (`manage_indices`), as a deploy
    step would: the app only reads them.
    """
    await ensure_search_indices(es_client, settings.elasticsearch)
    async with running(create_app(settings)) as http:
        yield http


@pytest.fixture
def songs(test_id: str) -> list[Row]:
    return build_songs(random.Random(f"songs-{test_id}"))


@pytest.fixture
async def indexed_songs(
    analytics_client: httpx.AsyncClient,
    es_client: AsyncElasticsearch,
    es_prefix: str,
    songs: list[Row],
) -> list[Row]:
    await index_songs(es_client, es_prefix, songs)
    return songs


@pytest.fixture
async def indexed_plays(
    analytics_client: httpx.AsyncClient,
    es_client: AsyncElasticsearch,
    es_prefix: str,
    songs: list[Row],
    test_id: str,
) -> list[Row]:
    plays = build_plays(random.Random(f"plays-{test_id}"), songs)
    await index_plays(es_client, es_prefix, plays, songs)
    return plays
