"""Partner keys and direct listener inserts for the third-party tests."""

from __future__ import annotations

import httpx
import pytest

from beatstream.partners.service import create_key


@pytest.fixture
async def partner_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """A key reading every view; depends on `client` so Beanie is bound to this test's db."""
    key, _ = await create_key("acme", ["views:read"])
    return {"X-API-Key": key}
