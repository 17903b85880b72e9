"""A few hot GET answers given before FastAPI's routing and dependency solving.

With a song or a public playlist kept in memory (beatstream.cache.reads), what is left
of `GET /v1/songs/{id}` is the framework: matching ~80 routes, solving dependencies,
building a `Request` and a `Response` (py-spy: ~60% of the request's CPU). A route
registered here gets a handler that looks at the raw request and either answers it
(status, headers, body) or returns None, and the request goes on to FastAPI as if this
middleware were not there (the route then does the full work, and keeps its answer).

It is the innermost middleware: request ids, security headers, metrics, rate limits,
head and body limits, and uvicorn's access line apply to a fast answer as to any other.
Only GET with an empty query string is taken (anything else, HEAD and OPTIONS included,
takes the full path, so validation and method semantics are unchanged). A handler must
only answer what the route would answer the same way for this request (the playlist's
answers only anonymous requests: a credential is checked by the route).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class FastAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""


FastHandler = Callable[[re.Match[str], Scope], Awaitable[FastAnswer | None]]


class FastPathMiddleware:
    def __init__(self, app: ASGIApp, routes: Sequence[tuple[str, FastHandler]]) -> None:
        """`routes`: (path regex, fullmatched; handler) pairs."""
        self.app = app
        self.routes = [(re.compile(pattern), handler) for pattern, handler in routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            path = scope["path"]
            for pattern, handler in self.routes:
                if (match := pattern.fullmatch(path)) is not None:
                    answer = await handler(match, scope)
                    if answer is not None:
                        await _send(answer, send)
                        return
                    break
        await self.app(scope, receive, send)


async def _send(answer: FastAnswer, send: Send) -> None:
    headers = answer.headers
    if answer.status != 304:
        headers = [*headers, (b"content-length", str(len(answer.body)).encode())]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def header(scope: Scope, name: bytes) -> bytes | None:
    """A request header's raw value (the first), `name` in lower case."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None
