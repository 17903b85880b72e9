"""HTTP method semantics the router leaves out: a complete `Allow`, HEAD, OPTIONS.

Starlette's router tries routes in order and stops at the first whose path *and*
method match, so on its own:

- a 405 carries only the `Allow` of the first route whose path matched (`OPTIONS
  /v1/songs` said `Allow: POST`, though GET is served there too);
- FastAPI routes do not answer HEAD, and nothing answers OPTIONS;
- a literal path is captured by a parameter route that accepts the method
  (`PATCH /v1/songs/by-artist` ran the song update with `song_id="by-artist"`).

This middleware decides those cases before routing, from the app's own routes: a
request path belongs to the *most specific* path template that matches it (segment by
segment from the left, a literal beats a parameter), so `/songs/by-artist` belongs to
its literal route whatever the method. Then:

- a method that template does not serve is a 405 whose `Allow` lists every method it
  does serve (all routes with that template, HEAD wherever GET, and OPTIONS);
- OPTIONS is answered here: 204 with that `Allow` (no route declares OPTIONS);
- HEAD runs the GET route and the body is dropped, so the headers (Content-Length,
  ETag, RateLimit-*) are the ones GET would send. A HEAD costs what the GET costs,
  including a streamed export, which is produced and discarded.

A served method passes through to the router unchanged; that the router then picks the
same template (literal routes declared before their parameter siblings) is checked for
every route by tests/beatstream/test_methods.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatstream.problems import problem

# The order `Allow` lists methods in (RFC 9110 leaves it free; a fixed one is testable).
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """Every route sharing one path template (`/v1/songs/{song_id}`), merged."""

    path_format: str
    regex: re.Pattern[str]
    declared: frozenset[str]  # the methods its routes declare

    @property
    def allowed(self) -> frozenset[str]:
        extra = {"OPTIONS"} | ({"HEAD"} if "GET" in self.declared else set())
        return self.declared | extra


def specificity(path_format: str) -> tuple[int, ...]:
    """1 per literal segment, 0 per parameter: the larger tuple is more specific."""
    return tuple(0 if "{" in part else 1 for part in path_format.split("/"))


def path_templates(routes: Sequence[BaseRoute]) -> list[PathTemplate]:
    """The app's HTTP routes (those under included routers too), one entry per template,
    most specific first (a stable sort: equals keep the router's order), so the first
    template that matches a path is its owner."""
    merged: dict[str, tuple[re.Pattern[str], set[str]]] = {}
    for route in iter_route_contexts(routes):
        regex = getattr(route, "path_regex", None)
        if not route.methods or route.path_format is None or regex is None:
            continue  # a mount or a websocket route: not this module's business
        merged.setdefault(route.path_format, (regex, set()))[1].update(route.methods)
    ordered = sorted(merged.items(), key=lambda item: specificity(item[0]), reverse=True)
    return [
        PathTemplate(path_format, regex, frozenset(methods))
        for path_format, (regex, methods) in ordered
    ]


def owner(templates: Iterable[PathTemplate], path: str) -> PathTemplate | None:
    """The most specific template matching `path` (`templates` in `path_templates`'
    order: the first match, with no per-request ranking), or None (a 404 for the router)."""
    return next((t for t in templates if t.regex.match(path)), None)


# How many leading segments key the index: `/v1/songs/...` narrows ~80 templates to a few.
_KEY_SEGMENTS = 2


def _key(path: str) -> tuple[str, ...]:
    return tuple(path.split("/", _KEY_SEGMENTS + 1)[1 : _KEY_SEGMENTS + 1])


class TemplateIndex:
    """`owner` without trying every template on every request.

    A template whose first `_KEY_SEGMENTS` segments are literal can only match a path
    that starts with exactly those segments (its regex is anchored and its literals
    are matched as written), so it is filed under them; one with a parameter among
    them is tried for every path. Each key's candidates keep `path_templates`' order,
    so the first match is the same owner `owner` finds over the whole list. A path
    whose key no template has (anything unknown) tries only the parameter-led ones:
    the lookup costs the same however many routes the app has elsewhere.
    """

    def __init__(self, templates: Sequence[PathTemplate]) -> None:
        def literal_key(template: PathTemplate) -> tuple[str, ...] | None:
            key = _key(template.path_format)
            return None if any("{" in part for part in key) else key

        keys = {literal_key(t) for t in templates} - {None}
        self._anywhere = [t for t in templates if literal_key(t) is None]
        self._by_key = {
            key: [t for t in templates if literal_key(t) in (key, None)] for key in keys
        }

    def candidates(self, path: str) -> list[PathTemplate]:
        """The templates a request for `path` tries, most specific first."""
        return self._by_key.get(_key(path), self._anywhere)

    def owner(self, path: str) -> PathTemplate | None:
        return owner(self.candidates(path), path)


def allow_header(methods: Iterable[str]) -> str:
    known = set(methods)
    return ", ".join(
        [m for m in METHOD_ORDER if m in known] + sorted(known.difference(METHOD_ORDER))
    )


class MethodSemanticsMiddleware:
    """See the module docstring. Innermost, so the outer middleware (request id, rate
    limit) see and decorate these answers like any other."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Built at the first request, when every route is registered.
        self._templates: TemplateIndex | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._templates is None:
            self._templates = TemplateIndex(path_templates(scope["app"].routes))
        template = self._templates.owner(get_route_path(scope))
        method = scope["method"]
        if template is None or method in template.declared:
            await self.app(scope, receive, send)
        elif method == "OPTIONS":
            allow = allow_header(template.allowed)
            await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)
        elif method == "HEAD" and "GET" in template.declared:
            await self._head_as_get(scope, receive, send)
        else:
            await self._not_allowed(scope, receive, send, template)

    async def _head_as_get(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route as GET, answer as HEAD. The method is switched back before the response
        starts: the server reads it then (a HEAD answer has no body to wait for), and the
        scope is the one object every layer shares, so nothing written to it is lost."""
        scope["method"] = "GET"

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                scope["method"] = "HEAD"
            elif message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, headers_only)
        finally:
            scope["method"] = "HEAD"

    async def _not_allowed(
        self, scope: Scope, receive: Receive, send: Send, template: PathTemplate
    ) -> None:
        allow = allow_header(template.allowed)
        response = problem(
            Request(scope),
            status=405,
            title="Method Not Allowed",
            detail=f"{scope['method']} is not served at {template.path_format}; use {allow}",
            type_slug="method-not-allowed",
            headers={"Allow": allow},
        )
        await response(scope, receive, send)
