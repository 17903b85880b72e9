"""The operator-key guard in front of a route whose own model would not catch the key.

Through `/v1/songs` the guard is invisible: the song-list model forbids unknown keys
and would answer the same 422 without it. `/v1/artists/{id}` reads no query model,
so there only the guard stands between `?$where=` and a 404.
"""

from __future__ import annotations

import httpx
import pytest
from bson import ObjectId


@pytest.mark.parametrize("key", ["$where", "title[$ne]", "album.title", "x]"])
async def test_a_route_without_a_query_model_still_refuses_operator_keys(
    client: httpx.AsyncClient, key: str
) -> None:
    response = await client.get(f"/v1/artists/{ObjectId()}", params={key: "1"})

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == key


async def test_that_route_ignores_plain_unknown_keys(client: httpx.AsyncClient) -> None:
    """The control: without an operator key the same request reaches the route (404)."""
    response = await client.get(f"/v1/artists/{ObjectId()}", params={"where": "$ne"})

    assert response.status_code == 404, response.text
