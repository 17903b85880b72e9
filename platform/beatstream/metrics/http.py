"""`HttpMetrics`: per-request counts, latency and in-flight, and the `/metrics` page.

Called by the outermost middleware (`beatstream.middleware.RequestIdMiddleware`, the
one layer that already wraps `send`), so it times everything a client waits for,
including the answers the other middleware give themselves (429, 405, 413, a
microcache replay), and so `/metrics` is answered before the rate limiter and the
router: never limited, never in the OpenAPI document.

The `route` label is the route's full path *template* (`/v1/songs/{song_id}`): one
series per route whatever ids clients send. After the request it is looked up from the
route the router matched (`scope["route"]`, the route as declared, whose own template
lacks its router's prefix) in a table built once from the app's routes. A request the
router never saw (refused or answered earlier: 429, 405, a microcache replay) is matched
against that table's patterns; no match is `unmatched`. Either way the answer is
memoised (bounded) by what the request carries (the matched route or the path, the
method, the status), straight to its series, so a repeat costs one dict lookup; the
counts go to the process's plain tally (`beatstream.metrics.tally`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette._utils import get_route_path
from starlette.routing import BaseRoute
from starlette.types import Scope, Send

from beatstream.metrics.registry import exposition, multiprocess_enabled
from beatstream.metrics.tally import HTTP_TALLY, HttpTally, Series

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


class HttpMetrics:
    """One app's view of the HTTP metrics: its route table and the memo of series."""

    def __init__(self, *, path: str | None = "/metrics", tally: HttpTally = HTTP_TALLY) -> None:
        """`path`: where to serve the metrics; None when they are served elsewhere
        (`METRICS_PORT`)."""
        self.path = path
        self._tally = tally
        self._table: RouteTable | None = None
        # (id of the matched route or the path, method, status) -> its series.
        self._series: dict[tuple[int | str, str, int], Series] = {}
        if multiprocess_enabled():
            tally.flush_periodically()  # the other workers read this one's files

    def started(self) -> None:
        self._tally.in_flight += 1

    def finished(self, scope: Scope, status: int, start: float) -> None:
        """Count the request that arrived at `start` (`time.perf_counter`) and was
        answered with `status` (500 when the app raised before answering)."""
        elapsed = time.perf_counter() - start
        self._tally.in_flight -= 1
        table = self._table
        routes = getattr(scope.get("app"), "routes", None) or ()
        if table is None or table.route_count != len(routes):
            table = self._table = RouteTable.of(routes)
            self._series.clear()
        routed = id(scope.get("route"))  # id(None) when the router never saw it
        # A route included under two prefixes is not in `by_route`: its path tells which.
        where = routed if routed in table.by_route else scope["path"]
        key = (where, scope["method"], status)
        series = self._series.get(key)
        if series is None:
            series = self._series_of(scope, table, routed, status)
            if len(self._series) >= _MEMO_LIMIT:
                self._series.clear()
            self._series[key] = series
        series.observe(elapsed)

    def _series_of(self, scope: Scope, table: RouteTable, routed: int, status: int) -> Series:
        template = table.by_route.get(routed)
        if template is None:
            path = get_route_path(scope)
            template = next((t for regex, t in table.patterns if regex.match(path)), UNMATCHED)
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
        return self._tally.series_for(
            (template, method, _STATUS_CLASSES.get(status // 100, "other"))
        )

    async def serve(self, send: Send) -> None:
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
