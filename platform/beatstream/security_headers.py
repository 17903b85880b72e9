"""Response headers every answer carries, and `no-store` where personal data travels.

- `X-Content-Type-Options: nosniff` everywhere: a browser never guesses a type other
  than the one declared (an uploaded title rendered as HTML, say).
- `Cache-Control: no-store` on accounts (`/v1/auth/...`: tokens, which RFC 6749 §5.1
  says no cache may keep, and `/me`), listeners
  and their plays (`/v1/listeners...`, `/v1/plays`): no shared or browser cache keeps
  a copy of someone's personal data or credentials.

500s are rendered outside every middleware, so `problems.problem` adds `nosniff` too.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE_PREFIXES = ("/v1/auth/", "/v1/listeners", "/v1/plays")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope["path"].startswith(NO_STORE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != NOSNIFF[0]
                    and not (no_store and name.lower() == b"cache-control")
                ]
                headers.append(NOSNIFF)
                if no_store:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
