"""Refusals: no key, wrong scope, unknown view, and every bad query parameter named."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from beatstream.cache.microcache import CACHED_PREFIXES
from beatstream.partners.service import create_key
from tests.beatstream.partners.views.data import insert_in_batches, many_listeners

VIEW = "/v1/thirdparty/listener_actions"


def _named(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {error["field"] for error in body["errors"]}, body


async def test_without_a_key_is_401_and_reads_nothing(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"X-API-Key": "bsk_0123456789abcdef_nope"}):
        response = await client.get(VIEW, headers=headers)
        assert response.status_code == 401
        assert "items" not in response.json()


async def test_a_key_scoped_to_one_view_is_403_on_another(client: httpx.AsyncClient) -> None:
    key, _ = await create_key("narrow", ["views:read:play_stats"])
    headers = {"X-API-Key": key}
    assert (await client.get("/v1/thirdparty/play_stats", headers=headers)).status_code == 200
    refused = await client.get(VIEW, headers=headers)
    assert refused.status_code == 403
    assert "listener_actions" in refused.json()["detail"]


async def test_unknown_view_is_a_404_problem(
    client: httpx.AsyncClient, partner_headers: dict[str, str]
) -> None:
    response = await client.get("/v1/thirdparty/listeners", headers=partner_headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (VIEW, {"format": "xml"}, "format"),
        (VIEW, {"limit": 0}, "limit"),
        (VIEW, {"limit": 101}, "limit"),
        (VIEW, {"cursor": "not-a-cursor"}, "cursor"),
        (VIEW, {"cursor": "A" * 80}, "cursor"),
        (VIEW, {"changes_since": "yesterday"}, "changes_since"),
        (VIEW, {"unknown": "1"}, "unknown"),
        (VIEW, {"format": "ndjson", "cursor": "x"}, "cursor"),
        (VIEW, {"format": "ndjson", "changes_since": "0"}, "changes_since"),
        (VIEW, {"changes_since": "0", "cursor": "x"}, "cursor"),
        ("/v1/thirdparty/play_stats", {"changes_since": "0"}, "changes_since"),
    ],
)
async def test_bad_query_parameters_are_422_naming_them(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    path: str,
    params: dict[str, Any],
    field: str,
) -> None:
    _named(await client.get(path, params=params, headers=partner_headers), field)


async def test_a_cursor_only_works_where_it_was_issued(
    client: httpx.AsyncClient, partner_headers: dict[str, str], mongo_db: Any
) -> None:
    await insert_in_batches(mongo_db, many_listeners(3))
    page = (await client.get(VIEW, params={"limit": 1}, headers=partner_headers)).json()
    feed = (await client.get(VIEW, params={"changes_since": "0"}, headers=partner_headers)).json()
    cursor, feed_cursor = page["next_cursor"], feed["next_cursor"]
    assert cursor
    assert feed_cursor

    other_view = await client.get(
        "/v1/thirdparty/play_stats", params={"cursor": cursor}, headers=partner_headers
    )
    _named(other_view, "cursor")
    _named(
        await client.get(VIEW, params={"cursor": feed_cursor}, headers=partner_headers), "cursor"
    )
    _named(
        await client.get(VIEW, params={"changes_since": cursor}, headers=partner_headers),
        "changes_since",
    )
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    _named(await client.get(VIEW, params={"cursor": tampered}, headers=partner_headers), "cursor")


async def test_partner_views_are_never_in_the_process_microcache() -> None:
    """Only the Redis cache, which a withdrawal invalidates, may hold a partner answer."""
    assert not any(b"/v1/thirdparty/".startswith(prefix) for prefix in CACHED_PREFIXES)
    assert all(not prefix.startswith(b"/v1/thirdparty") for prefix in CACHED_PREFIXES)
