"""Bring the whole stack up, report on it, take it down: the logic behind the CLI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from beatstream.settings import ElasticsearchSettings, MongoSettings, RedisSettings, Settings
from beatstream.stores import StoreStatus, close_stores, open_stores, probe_all
from devstack.base import StackServer
from devstack.config import StackConfig
from devstack.process import ManagedProcess, StackError, port_in_use
from devstack.servers.elasticsearch import ElasticsearchServer
from devstack.servers.mongodb import MongoWireServer
from devstack.servers.redis import RedisServer

Reporter = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class UpResult:
    name: str
    url: str
    action: str  # "started" | "already running"
    install_s: float
    start_s: float


class Stack:
    def __init__(self, config: StackConfig | None = None, only: set[str] | None = None) -> None:
        """`only` limits the stack to some servers (by name), e.g. when a store is external."""
        self.config = config or StackConfig()
        servers: list[StackServer] = [
            RedisServer(self.config),
            ElasticsearchServer(self.config),
            MongoWireServer(self.config),
        ]
        unknown = (only or set()) - {s.name for s in servers}
        if unknown:
            raise StackError(f"unknown stack server(s): {', '.join(sorted(unknown))}")
        self.servers = [s for s in servers if only is None or s.name in only]

    def process(self, server: StackServer) -> ManagedProcess:
        return ManagedProcess(server.name, self.config.run_dir, self.config.log_dir)

    def settings(self) -> Settings:
        """Application settings pointing at this stack's servers (defaults for the others)."""
        by_name = {s.name: s.url for s in self.servers}
        defaults = Settings()
        return Settings(
            mongodb=MongoSettings(url=by_name.get("mongodb", defaults.mongodb.url)),
            elasticsearch=ElasticsearchSettings(
                url=by_name.get("elasticsearch", defaults.elasticsearch.url)
            ),
            redis=RedisSettings(url=by_name.get("redis", defaults.redis.url)),
        )

    def is_up(self) -> bool:
        return all(self.process(s).record() is not None and s.is_ready() for s in self.servers)

    def up(self, report: Reporter = print) -> list[UpResult]:
        """Install what is missing and start what is not running; safe to call twice."""
        results = []
        for server in self.servers:
            process = self.process(server)
            if process.record() is not None:
                report(f"{server.name}: already running at {server.url}")
                results.append(UpResult(server.name, server.url, "already running", 0.0, 0.0))
                continue
            started = time.perf_counter()
            report(f"{server.name}: installing (cached after the first run)")
            server.install()
            installed = time.perf_counter()
            plan = server.launch_plan()
            report(f"{server.name}: starting on port {server.port}")
            process.start(
                plan.argv,
                marker=plan.marker,
                host=self.config.host,
                port=server.port,
                ready=server.is_ready,
                timeout_s=self.config.start_timeout_s,
                env=plan.env,
                cwd=plan.cwd,
                preexec_user=plan.user,
            )
            ready = time.perf_counter()
            report(f"{server.name}: ready at {server.url} ({ready - started:.1f}s)")
            results.append(
                UpResult(server.name, server.url, "started", installed - started, ready - installed)
            )
        return results

    def down(self, report: Reporter = print, names: set[str] | None = None) -> list[str]:
        """Stop only the processes this stack started (by pid file), in reverse order."""
        stopped = []
        for server in reversed(self.servers):
            if names is not None and server.name not in names:
                continue
            if self.process(server).stop():
                report(f"{server.name}: stopped")
                stopped.append(server.name)
            else:
                report(f"{server.name}: was not running (started by this stack)")
        return stopped

    def status(self) -> list[tuple[StoreStatus, str]]:
        """Each store's self-reported version and URL, plus who runs it."""
        statuses = asyncio.run(self._probe())
        owners = {}
        for server in self.servers:
            if self.process(server).record() is not None:
                owners[server.name] = "stack"
            elif port_in_use(self.config.host, server.port):
                owners[server.name] = "external"
            else:
                owners[server.name] = "stopped"
        return [(status, owners[status.name]) for status in statuses]

    async def _probe(self) -> list[StoreStatus]:
        stores = open_stores(self.settings())
        try:
            return await probe_all(stores, timeout_s=3.0)
        finally:
            await close_stores(stores)


__all__ = ["Stack", "StackError", "UpResult"]
