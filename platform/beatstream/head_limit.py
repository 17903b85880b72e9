"""Refuse an over-long request target (414) or header block (431) before any work.

The server refuses a head past the sum of both limits outright (`beatstream serve`
runs h11 with that bound); this middleware holds whatever server runs the app to the
two limits separately, with a problem-details answer naming the limit, before rate
limiting, routing or logging spend anything on the request.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from beatstream.problems import problem


class RequestHeadLimitMiddleware:
    def __init__(self, app: ASGIApp, max_url_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_url_bytes = max_url_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        url_bytes = len(raw_path) + len(scope.get("query_string", b""))
        # As on the wire: `name: value\r\n`.
        header_bytes = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if url_bytes > self.max_url_bytes:
            status, title, slug = 414, "URI Too Long", "uri-too-long"
            detail = f"the request target is longer than {self.max_url_bytes} bytes"
        elif header_bytes > self.max_header_bytes:
            status, title, slug = 431, "Request Header Fields Too Large", "headers-too-large"
            detail = f"the request headers are larger than {self.max_header_bytes} bytes"
        else:
            await self.app(scope, receive, send)
            return
        # The problem's `instance` is the path: cut it, the client has it anyway.
        scope = {**scope, "path": scope["path"][:256], "query_string": b""}
        response = problem(
            Request(scope), status=status, title=title, detail=detail, type_slug=slug
        )
        await response(scope, receive, send)
