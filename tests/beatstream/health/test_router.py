from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from beatstream.app import create_app
from beatstream.settings import Settings
from tests.fixtures.servers import DisposableRedis


async def test_live_answers_without_touching_stores(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_three_real_server_versions(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["stores"]) == {"mongodb", "elasticsearch", "redis"}
    for store in body["stores"].values():
        assert store["up"] is True
        assert store["version"][0].isdigit()
        assert store["rtt_ms"] >= 0
        assert store["error"] is None


async def test_ready_is_503_while_a_store_is_down(
    settings: Settings, disposable_redis: DisposableRedis
) -> None:
    settings = settings.model_copy(
        update={
            "redis": settings.redis.model_copy(
                update={"url": disposable_redis.url, "socket_timeout_s": 0.5}
            ),
        }
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await http.get("/health/ready")).status_code == 200
            disposable_redis.kill()
            response = await http.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["stores"]["redis"]["up"] is False
    assert body["stores"]["redis"]["error"]
    assert body["stores"]["mongodb"]["up"] is True
    assert body["stores"]["elasticsearch"]["up"] is True
