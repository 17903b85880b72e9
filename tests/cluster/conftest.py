"""Failure tests on the local clusters (`beatstream stack up --cluster`).

They kill a node of the session's clusters by pid, so they run only in the cluster pass
(`BEATSTREAM_TOPOLOGY=cluster`, second pass of `make test`), and each brings the node
back (restart, rejoin, wait until the clusters are healthy) before it ends, pass or fail.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest

from devstack.base import StackServer
from devstack.cluster import ClusterStack
from devstack.config import StackConfig
from tests.fixtures.resolve import cluster_topology


@pytest.fixture
async def clusters(resolved_stores: object) -> AsyncIterator[ClusterStack]:
    """The session's clusters; restored after the test even if it failed half-way."""
    if not cluster_topology():
        pytest.skip("kills cluster nodes: only in the cluster pass (BEATSTREAM_TOPOLOGY=cluster)")
    stack = ClusterStack(StackConfig())
    assert stack.is_up(), "the clusters must be healthy before a failure test"
    yield stack
    await restore(stack)


async def restore(stack: ClusterStack) -> None:
    """Restart whatever node is down; it rejoins with its data. Waits until healthy."""
    if not stack.is_up():
        await asyncio.to_thread(stack.up, lambda _line: None)


async def kill(stack: ClusterStack, node: StackServer) -> None:
    """SIGKILL the node's whole process group (launcher and JVM): a crash, not a shutdown."""
    record = stack.process(node).record()
    assert record is not None, f"{node.name} is not running"
    os.killpg(record.pid, signal.SIGKILL)
    for _ in range(500):
        if not record.is_alive():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{node.name} (pid {record.pid}) survived SIGKILL")
