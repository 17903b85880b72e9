"""FastPathMiddleware: a handler's answer goes out without the app; None, another
method, a query string or another path goes to the app unchanged."""

from __future__ import annotations

import re
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from beatstream.fastpath import FastAnswer, FastPathMiddleware


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"app"})


async def _handler(match: re.Match[str], scope: Scope) -> FastAnswer | None:
    if match[1] == "none":
        return None
    return FastAnswer(200, [(b"etag", b'"1"')], match[1].encode())


async def _call(method: str, path: str, query: bytes = b"") -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": method, "path": path, "query_string": query, "headers": []}
    await FastPathMiddleware(_app, [(r"/x/(\w+)", _handler)])(scope, receive, send)
    return sent


async def test_a_handler_answer_is_sent_without_the_app() -> None:
    start, body = await _call("GET", "/x/abc")

    assert start["status"] == 200
    assert (b"content-length", b"3") in start["headers"]
    assert body["body"] == b"abc"


async def test_everything_else_goes_to_the_app() -> None:
    for method, path, query in [
        ("GET", "/x/none", b""),
        ("HEAD", "/x/abc", b""),
        ("GET", "/x/abc", b"a=1"),
        ("GET", "/y/abc", b""),
        ("GET", "/x/abc/more", b""),
    ]:
        start, _body = await _call(method, path, query)
        assert start["status"] == 299, (method, path, query)
