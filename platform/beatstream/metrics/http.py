"""`MetricsMiddleware`: per-request counts, latency and in-flight, and the `/metrics` page.

Pure ASGI and outermost, so it times everything a client waits for, including the
answers the other middleware give themselves (429, 405, 413, a microcache replay),
and so `/metrics` is answered before the rate limiter and the router: never limited,
never in the OpenAPI document.

The `route` label is the route's full path *template* (`/v1/songs/{song_id}`): one
series per route whatever ids clients send. After the request it is looked up from the
route the router matched (`scope["route"]`, the route as declared, whose own template
lacks its router's prefix) in a table built once from the app's routes. A request the
router never saw (refused or answered earlier: 429, 405, a microcache replay) is matched
against that table's patterns, memoised per path (bounded); no match is `unmatched`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette._utils import get_route_path
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatstream.metrics.families import HTTP_DURATION, HTTP_IN_FLIGHT, HTTP_REQUESTS
from beatstream.metrics.registry import exposition

UNMATCHED = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_MEMO_LIMIT = 4096
_STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}


@dataclass(frozen=True, slots=True)
class RouteTable:
    """An app's route templates: by declared route, and as patterns in router order."""

    route_count: int
    by_route: dict[int, str]  # by the declared route's id: routes define __eq__, no hash
    patterns: tuple[tuple[re.Pattern[str], str], ...]

    @classmethod
    def of(cls, routes: Sequence[BaseRoute]) -> RouteTable:
        by_route: dict[int, str] = {}
        shared: set[int] = set()
        patterns: list[tuple[re.Pattern[str], str]] = []
        for context in iter_route_contexts(routes):
            template, regex = context.path_format, getattr(context, "path_regex", None)
            if template is None or regex is None:
                continue
            patterns.append((regex, template))
            declared = id(context.original_route)
            if by_route.setdefault(declared, template) != template:
                shared.add(declared)  # included under two prefixes: match its path instead
        for declared in shared:
            del by_route[declared]
        return cls(len(routes), by_route, tuple(patterns))


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, path: str | None = "/metrics") -> None:
        """`path`: where to serve the metrics; None when they are served elsewhere
        (`METRICS_PORT`)."""
        self.app = app
        self.path = path
        self._table: RouteTable | None = None
        self._matched: dict[str, str] = {}
        # (route, method, status class) -> (counter, histogram) children: `labels()`
        # takes a lock and builds a key on each call, a cost paid once per series here.
        self._series: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == self.path:
            await self._serve(send)
            return
        status = 500  # what the client sees when the app raises before answering
        start = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            HTTP_IN_FLIGHT.dec()
            self._record(scope, status, time.perf_counter() - start)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = self._template(scope)
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
        key = (route, method, _STATUS_CLASSES.get(status // 100, "other"))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                HTTP_REQUESTS.labels(*key),
                HTTP_DURATION.labels(*key),
            )
        series[0].inc()
        series[1].observe(elapsed)

    def _template(self, scope: Scope) -> str:
        routes = getattr(scope.get("app"), "routes", None) or []
        table = self._table
        if table is None or table.route_count != len(routes):
            table = self._table = RouteTable.of(routes)
            self._matched.clear()
        routed = scope.get("route")
        if routed is not None and (template := table.by_route.get(id(routed))) is not None:
            return template
        path = get_route_path(scope)
        template = self._matched.get(path)
        if template is None:
            template = next((t for regex, t in table.patterns if regex.match(path)), UNMATCHED)
            if len(self._matched) >= _MEMO_LIMIT:
                self._matched.clear()
            self._matched[path] = template
        return template

    async def _serve(self, send: Send) -> None:
        body, content_type = exposition()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
