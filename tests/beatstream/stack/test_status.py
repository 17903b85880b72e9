from __future__ import annotations

import pytest

from beatstream.stack.manager import Stack
from tests.fixtures.stores import ResolvedStore


def test_status_reports_each_server_version_and_url(
    resolved_stores: dict[str, ResolvedStore],
) -> None:
    if {s.source for s in resolved_stores.values()} != {"local stack"}:
        pytest.skip("the stores of this run are not the local stack")

    rows = {status.name: (status, owner) for status, owner in Stack().status()}

    assert set(rows) == {"mongodb", "elasticsearch", "redis"}
    for name, (status, owner) in rows.items():
        assert owner == "stack", name
        assert status.up
        assert status.version
        assert status.url.startswith(("mongodb://", "http://", "redis://"))
