"""Pure-ASGI middleware: cheap enough for every request, and streaming-safe."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatstream.logs import request_id_var
from beatstream.metrics.http import HttpMetrics

REQUEST_ID_HEADER = "x-request-id"
_HEADER = REQUEST_ID_HEADER.encode()
MAX_REQUEST_ID = 128
# Only ever `fullmatch`ed on at most MAX_REQUEST_ID characters: one bounded class, no
# backtracking. (`$` with `match` would also take a trailing newline.)
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]+")


class RequestIdMinter:
    """32 hex digits: 16 random per process, then a counter. Unique across processes
    (a 64-bit random prefix each, drawn again in a forked child) and in one process
    (the counter), at a tenth of `uuid4`'s cost: no `getrandom` call per request.
    Request ids correlate log lines; they are not secrets, so being sequential is fine."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count()

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFFFFFF:016x}"


mint_request_id = RequestIdMinter()


def _is_valid_request_id(value: str) -> bool:
    return len(value) <= MAX_REQUEST_ID and _VALID_REQUEST_ID.fullmatch(value) is not None


def _incoming_request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The caller's id (the last one, if sent twice), or ""; a scan, not a dict per
    request (ASGI header names are lower case)."""
    found = b""
    for name, value in headers:
        if name == _HEADER:
            found = value
    return found.decode("latin-1")


def _with_request_id(
    headers: Sequence[tuple[bytes, bytes]], request_id: str
) -> Sequence[tuple[bytes, bytes]]:
    """The response's headers plus the id, in a new list (the app's may be shared, a
    microcache replay's is); unchanged when it is there already: a problem response
    carries it (500s are rendered outside this middleware, so `problem()` sets it too),
    and it is never sent twice."""
    for name, _ in headers:
        if name.lower() == _HEADER:
            return headers
    return [*headers, (_HEADER, request_id.encode())]


class RequestIdMiddleware:
    """Adopt the caller's `X-Request-ID` when it is sane, else mint one; echo it back;
    and, given `metrics`, count and time the request and serve `/metrics`.

    The id lives in a context variable so every log line of the request carries it,
    and in the request state for the outermost error handler, which runs after this
    middleware has returned.

    The metrics are kept here, not in a middleware of their own, because this is the
    one layer that already wraps `send`: another layer and another wrapper cost more
    than the bookkeeping on the cheapest answers (docs/observability.md, "What the
    metrics cost"). Added last, it is the outermost middleware, so the timing covers
    every answer the others give (429, 405, 413, a microcache replay).
    """

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics = self.metrics
        if metrics is not None and scope["path"] == metrics.path:
            await metrics.serve(send)  # not counted, no request id
            return
        start = time.perf_counter()
        incoming = _incoming_request_id(scope["headers"])
        request_id = incoming if _is_valid_request_id(incoming) else mint_request_id()
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client sees when the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = _with_request_id(message.get("headers", []), request_id)
            await send(message)

        if metrics is not None:
            metrics.started()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            if metrics is not None:
                metrics.finished(scope, status, start)
