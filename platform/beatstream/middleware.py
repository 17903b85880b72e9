"""Pure-ASGI middleware: cheap enough for every request, and streaming-safe."""

from __future__ import annotations

import itertools
import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatstream.logs import request_id_var

REQUEST_ID_HEADER = "x-request-id"
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


class RequestIdMiddleware:
    """Adopt the caller's `X-Request-ID` when it is sane, else mint one; echo it back.

    The id lives in a context variable so every log line of the request carries it,
    and in the request state for the outermost error handler, which runs after this
    middleware has returned.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _is_valid_request_id(incoming) else mint_request_id()
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A problem response already carries it (500s are rendered outside
                # this middleware, so `problem()` sets it too): never send it twice.
                if all(name.lower() != REQUEST_ID_HEADER.encode() for name, _ in headers):
                    headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
