"""Bad input is a 422 naming the field; Elasticsearch down is a 503 with Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from elasticsearch import AsyncElasticsearch

from beatstream.analytics import service
from beatstream.analytics.schemas import PlaysQuery
from beatstream.app import create_app
from beatstream.deps import get_es
from beatstream.errors import StoreUnavailableError
from beatstream.settings import Settings
from beatstream.stores.clients import create_es_client
from tests.fixtures.app import running
from tests.fixtures.ports import unused_port


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/analytics/top-artists", {"country": "XX"}, "country"),
        ("/v1/analytics/top-artists", {"country": "ITA"}, "country"),
        ("/v1/analytics/top-artists", {"limit": "101"}, "limit"),
        ("/v1/analytics/top-artists", {"limit": "0"}, "limit"),
        ("/v1/analytics/top-artists", {"limit": "ten"}, "limit"),
        ("/v1/analytics/top-songs", {"country": "zz"}, "country"),
        ("/v1/analytics/top-songs", {"limit": "1000"}, "limit"),
        ("/v1/analytics/genres", {"country": "12"}, "country"),
        ("/v1/analytics/genres", {"limit": "5"}, "limit"),  # genres takes no limit
        ("/v1/analytics/top-artists", {"bogus": "1"}, "bogus"),
        ("/v1/analytics/plays", {"interval": "year"}, "interval"),
        ("/v1/analytics/plays", {"from": "2024-13-01T00:00:00Z"}, "from"),
        ("/v1/analytics/plays", {"to": "yesterday"}, "to"),
        (
            "/v1/analytics/plays",
            {"from": "2024-02-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"},
            "from",
        ),
        (
            "/v1/analytics/plays",
            {"from": "2024-02-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"},
            "from",
        ),
        (
            "/v1/analytics/plays",
            {"from": "2020-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"},
            "from",
        ),
        ("/v1/analytics/plays", {"country": "XX"}, "country"),
        ("/v1/analytics/plays", {"song": "not-an-id"}, "song"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    analytics_client: httpx.AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    response = await analytics_client.get(path, params=params)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert [error["field"] for error in problem["errors"]] == [field]
    assert field in problem["detail"]


async def test_a_long_range_is_fine_at_a_coarser_interval(
    analytics_client: httpx.AsyncClient,
) -> None:
    params = {"from": "2020-01-01T00:00:00Z", "to": "2024-01-01T00:00:00Z", "interval": "month"}
    response = await analytics_client.get("/v1/analytics/plays", params=params)

    assert response.status_code == 200, response.text
    assert len(response.json()["buckets"]) == 48


@pytest.fixture
def dead_settings(settings: Settings) -> Settings:
    """Settings whose Elasticsearch URL is a loopback port nothing listens on."""
    url = f"http://127.0.0.1:{unused_port()}"
    return settings.model_copy(
        update={"elasticsearch": settings.elasticsearch.model_copy(update={"url": url})}
    )


@pytest.fixture
async def dead_es(dead_settings: Settings) -> AsyncIterator[AsyncElasticsearch]:
    client = create_es_client(dead_settings.elasticsearch)
    yield client
    await client.close()


async def test_service_raises_store_unavailable_when_elasticsearch_is_down(
    dead_es: AsyncElasticsearch, dead_settings: Settings
) -> None:
    config = dead_settings.elasticsearch
    calls: list[Any] = [
        service.top_artists(dead_es, config, "IT", 10),
        service.top_songs(dead_es, config, "IT", 10),
        service.genre_shares(dead_es, config, None),
        service.plays_histogram(dead_es, config, PlaysQuery()),
    ]
    for call in calls:
        with pytest.raises(StoreUnavailableError) as caught:
            await call
        assert caught.value.store == "elasticsearch"
        assert caught.value.safe_url == config.safe_url


@pytest.mark.parametrize(
    "path",
    [
        "/v1/analytics/top-artists?country=IT",
        "/v1/analytics/top-songs",
        "/v1/analytics/genres",
        "/v1/analytics/plays?interval=week",
    ],
)
async def test_http_503_with_retry_after_when_elasticsearch_is_down(
    settings: Settings,
    dead_es: AsyncElasticsearch,
    mongo_db: object,
    es_prefix: str,
    redis_prefix: str,
    path: str,
) -> None:
    app = create_app(settings)
    app.dependency_overrides[get_es] = lambda: dead_es
    async with running(app) as http:
        response = await http.get(path)

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/store-unavailable")
    assert problem["store"] == "elasticsearch"
