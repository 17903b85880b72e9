"""A per-process microcache for the Redis-cached routes (search and analytics).

The Redis cache makes a dashboard answer cheap for Elasticsearch, but each hit still
costs the framework's routing, dependencies and two Redis round trips. Hot dashboard
URLs are requested many times a second, so for `ttl_s` (1 s by default) a process
answers a repeated URL from memory, before routing.

The price is bounded staleness: after an invalidation, a process that already holds
an answer may serve it for up to `ttl_s` more, plus at most `REFRESH_GRACE_S`: when an
entry expires, the first request refreshes it while concurrent ones still get the old
answer, so expiry does not send a burst of identical requests through the full path.
The bound is hard: an entry is never served later than `REFRESH_GRACE_S` after it
expired, even when its refreshes keep failing (Elasticsearch down after a reindex,
say), since each failed refresh would otherwise open a new grace window. Only
successful answers that the Redis cache produced (they carry `X-Cache`) are kept;
anything else passes through.
`Cache-Control: no-cache` from the client skips the microcache.

Single flight when nothing is kept yet (a process's first requests for a URL, or an
entry evicted or past its grace): the first request without `If-None-Match` goes
through and the identical requests arriving meanwhile wait for its answer instead of
each going to Redis (and on a Redis miss to Elasticsearch) at the same moment. A
waiter gets that answer only if it was kept (a 200 the Redis cache produced, whose fetch
ended while the waiter waited: no staler than any hit, well within the `ttl_s` bound);
otherwise it goes through itself. A conditional request never leads (its answer may
be a 304, which keeps nothing), but may wait and is answered from what was kept.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatstream.cache.http import etag_matches
from beatstream.metrics.families import MICROCACHE_HITS

CACHED_PREFIXES = (b"/v1/search/", b"/v1/analytics/")


@dataclass(slots=True)
class _Entry:
    expires_at: float
    stored_at: float
    body: bytes
    # What a replay sends (`x-cache: hit` in; `age` is added per replay), built once
    # when stored: a 200's, and a 304's (no content type or length).
    ok_headers: list[tuple[bytes, bytes]]
    not_modified_headers: list[tuple[bytes, bytes]]
    etag: str
    # While one request refreshes an expired entry, the others keep getting the old one
    # (for at most REFRESH_GRACE_S), instead of all falling through at the same moment.
    refreshing_until: float = 0.0


REFRESH_GRACE_S = 2.0


class MicrocacheMiddleware:
    def __init__(self, app: ASGIApp, ttl_s: float, max_entries: int) -> None:
        self.app = app
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.entries: OrderedDict[tuple[str, bytes], _Entry] = OrderedDict()
        # Keys being fetched by a leading request with nothing kept, and its end.
        self.flights: dict[tuple[str, bytes], asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not self.ttl_s
            or not scope["path"].encode().startswith(CACHED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope["query_string"])
        entry = self.entries.get(key)
        now = time.monotonic()
        cache_control, if_none_match = _request_headers(scope)
        if b"no-cache" in cache_control:
            await self.app(scope, receive, self._recording(key, send))
            return
        if entry is not None:
            fresh = entry.expires_at > now
            if fresh or entry.refreshing_until > now:
                self.entries.move_to_end(key)
                await self._replay(entry, now, if_none_match, send)
                return
            if now < entry.expires_at + REFRESH_GRACE_S:
                entry.refreshing_until = entry.expires_at + REFRESH_GRACE_S
                await self.app(scope, receive, self._recording(key, send))
                return
            del self.entries[key]  # past its grace: never served again
        if (flight := self.flights.get(key)) is not None:
            await flight.wait()
            if (entry := self.entries.get(key)) is not None and entry.expires_at > now:
                self.entries.move_to_end(key)
                await self._replay(entry, time.monotonic(), if_none_match, send)
                return
        elif if_none_match is None:
            await self._lead(key, scope, receive, send)
            return
        await self.app(scope, receive, self._recording(key, send))

    async def _lead(
        self, key: tuple[str, bytes], scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Go through for `key` while identical requests wait (their end: `finally`, so
        a failed or cancelled request never leaves them waiting)."""
        self.flights[key] = flight = asyncio.Event()
        try:
            await self.app(scope, receive, self._recording(key, send))
        finally:
            del self.flights[key]
            flight.set()

    def _recording(self, key: tuple[str, bytes], send: Send) -> Send:
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_and_record(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._store(key, start, b"".join(chunks))
            await send(message)

        return send_and_record

    def _store(self, key: tuple[str, bytes], start: Message, body: bytes) -> None:
        headers = [(k.lower(), v) for k, v in start.get("headers", [])]
        names = {k for k, _ in headers}
        if start["status"] != 200 or b"x-cache" not in names:
            return
        now = time.monotonic()
        kept = [
            (k, v)
            for k, v in headers
            if k not in {b"age", b"x-request-id", b"content-length", b"x-cache"}
        ]
        kept.append((b"x-cache", b"hit"))
        ok = [*kept, (b"content-length", str(len(body)).encode())]
        not_modified = [(k, v) for k, v in kept if k != b"content-type"]
        etag = next((v.decode() for k, v in headers if k == b"etag"), "")
        self.entries[key] = _Entry(now + self.ttl_s, now, body, ok, not_modified, etag)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    async def _replay(
        self, entry: _Entry, now: float, if_none_match: bytes | None, send: Send
    ) -> None:
        MICROCACHE_HITS.inc()
        age = (b"age", str(int(now - entry.stored_at)).encode())
        if if_none_match is not None and etag_matches(if_none_match.decode("latin-1"), entry.etag):
            headers = [*entry.not_modified_headers, age]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*entry.ok_headers, age]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})


def _request_headers(scope: Scope) -> tuple[bytes, bytes | None]:
    """`Cache-Control` (empty when absent) and `If-None-Match`, in one pass, no dict."""
    cache_control, if_none_match = b"", None
    for name, value in scope["headers"]:
        if name == b"cache-control":
            cache_control = value
        elif name == b"if-none-match":
            if_none_match = value
    return cache_control, if_none_match
