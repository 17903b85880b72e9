"""Rate limits in Redis: per partner key, per signed-in account, and per client IP for
everything else.

The algorithm is GCRA (the generic cell rate algorithm), in one Lua script:

- one key per bucket holding one number (the "theoretical arrival time"), so a
  bucket costs a few bytes and one round trip whatever the limit, where a sliding
  log keeps a sorted set of every request in the window;
- exact, where a sliding-window *counter* only approximates the previous window;
- smooth: a drained bucket refills one request every `window / limit`, so a client
  that waits out `Retry-After` gets in, rather than a whole window's burst landing
  at once on a fixed window's edge.

The full `limit` is available as a burst, so the (limit+1)th request of a burst is
the first refused. The script reads the clock with Redis `TIME`, so every API
process shares one clock, and touches exactly one key, so it runs unchanged on a
Redis Cluster.

Redis down means **fail open**: requests are served without a limit and a warning
is logged (at most every few seconds). A partner API that stops serving whenever
its cache tier blips hurts every partner to protect against a few; the limits guard
capacity, not secrecy (keys and scopes are checked in MongoDB regardless).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from redis.exceptions import RedisClusterException, RedisError
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatstream.auth.principals import Principal
from beatstream.errors import AppError, TooManyRequestsError
from beatstream.metrics.families import RATELIMIT_REJECTIONS
from beatstream.problems import problem
from beatstream.settings import RateLimitSettings
from beatstream.state import scope_state
from beatstream.stores.clients import RedisClient

logger = logging.getLogger(__name__)

# The ASGI scope key under which a request's rate-limit headers wait for its response.
# The scope, not the state: lifespan state may be one dict shared by every request
# (asgi-lifespan's is).
SCOPE_HEADERS = "beatstream.ratelimit_headers"
# Set when the middleware already counted the request against its client IP.
SCOPE_IP_COUNTED = "beatstream.ratelimit_ip_counted"
WARN_EVERY_S = 10.0


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal: ...


def _verified_subject(authorization: bytes | None, tokens: TokenVerifier | None) -> str | None:
    """The account id of a bearer token that verifies, else None (it counts per IP)."""
    if authorization is None or tokens is None:
        return None
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return str(tokens.verify(token.strip()).subject)
    except AppError:
        return None


# Never limited by the middleware: an orchestrator must always reach the probes and docs.
EXEMPT_PREFIXES = ("/health/", "/docs", "/redoc", "/openapi.json")
# Dependencies that limit a request per API key themselves (the partner key check
# registers itself). A route depending on one, directly or not, is *key-limited*: the
# middleware leaves a request with an `X-API-Key` there to it. Infrastructure imports no
# domain, so the domain registers here, as credential checks do in `auth.guard`.
_KEY_LIMITERS: set[Callable[..., Any]] = set()
# Per app: its route count when scanned, and the path patterns of its key-limited routes.
_KEYED_ROUTES: WeakKeyDictionary[Any, tuple[int, tuple[re.Pattern[str], ...]]] = WeakKeyDictionary()


def register_key_limiter(dependency: Callable[..., Any]) -> None:
    """Mark `dependency` as one that counts requests per API key (see `_KEY_LIMITERS`)."""
    _KEY_LIMITERS.add(dependency)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _keyed_patterns(app: Any) -> tuple[re.Pattern[str], ...]:
    """The full-path patterns of `app`'s key-limited routes, from its route table (as
    FastAPI's OpenAPI generation walks it): scanned once per app, again only if routes
    were added at the top level since, then one regex per keyed request."""
    routes = getattr(app, "routes", None) or []
    cached = _KEYED_ROUTES.get(app)
    if cached is not None and cached[0] == len(routes):
        return cached[1]
    patterns = tuple(
        compile_path(context.path)[0]
        for context in iter_route_contexts(routes)
        if context.path
        and isinstance(context.original_route, APIRoute)
        and any(call in _KEY_LIMITERS for call in _calls(context.original_route.dependant))
    )
    _KEYED_ROUTES[app] = (len(routes), patterns)
    return patterns


def key_limited(scope: Scope) -> bool:
    """Whether the route this request will reach (`scope["app"]`'s router) is key-limited."""
    app = scope.get("app")
    if app is None:
        return False
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        path = path[len(root) :]
    return any(pattern.match(path) for pattern in _keyed_patterns(app))


def bucket_for(
    scope: Scope, settings: RateLimitSettings, tokens: TokenVerifier | None
) -> tuple[str, int] | None:
    """The bucket and limit a request counts against in the middleware; None when it is
    not limited here. A pure function of the ASGI scope (a token check is a signature
    check, no I/O; whether the route is key-limited is read from the scope's app's route
    table), so who counts where is unit-tested without Redis or a running app."""
    path: str = scope.get("path", "")
    if path.startswith(EXEMPT_PREFIXES):
        return None
    headers = dict(scope.get("headers", []))
    if b"x-api-key" in headers and key_limited(scope):
        return None
    subject = _verified_subject(headers.get(b"authorization"), tokens)
    if subject is not None:
        return f"user:{subject}", settings.user_limit
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}", settings.anonymous_limit


# KEYS[1]: the bucket. ARGV[1]: limit; ARGV[2]: window in microseconds.
# Integer microseconds throughout: a double holds them exactly (< 2**53) and
# `%d` stores them without the `%.14g` rounding Lua applies to plain numbers.
# Returns {allowed, remaining, retry_after_us, reset_us}.
GCRA_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = math.floor(window / limit)
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if allow_at > now then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
local remaining = math.floor((window - (new_tat - now)) / interval)
if remaining > limit - 1 then remaining = limit - 1 end
return {1, remaining, 0, new_tat - now}
"""

_REDIS_FAILURES = (RedisError, RedisClusterException)


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    window_s: int
    reset_s: int  # seconds until the bucket is full again
    retry_after_s: int  # seconds until the next request is accepted (0 when allowed)

    def headers(self) -> dict[str, str]:
        """`RateLimit-*` (IETF httpapi draft fields) and, when refused, `Retry-After`."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
            "RateLimit-Policy": f"{self.limit};w={self.window_s}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


def _ceil_s(microseconds: int) -> int:
    return math.ceil(microseconds / 1_000_000)


class RateLimiter:
    """One GCRA bucket per name (`key:<key_id>`, `ip:<address>`) under the Redis prefix."""

    def __init__(self, redis: RedisClient, key_prefix: str, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._prefix = f"{key_prefix}rl:"
        self._script = redis.register_script(GCRA_SCRIPT)
        self._last_warning = -math.inf

    async def hit(self, bucket: str, limit: int) -> RateDecision | None:
        """Count one request against `bucket`; None when limiting is off or Redis failed."""
        if not self.settings.enabled:
            return None
        window_s = self.settings.window_s
        try:
            raw: Any = await self._script(
                keys=[self._prefix + bucket], args=[limit, window_s * 1_000_000]
            )
        except _REDIS_FAILURES as exc:
            self._warn(exc)
            return None
        allowed, remaining, retry_after_us, reset_us = (int(v) for v in raw)
        if not allowed:
            RATELIMIT_REJECTIONS.labels(bucket.partition(":")[0]).inc()
        return RateDecision(
            allowed=bool(allowed),
            limit=limit,
            remaining=max(0, remaining),
            window_s=window_s,
            reset_s=_ceil_s(reset_us),
            retry_after_s=max(1, _ceil_s(retry_after_us)) if not allowed else 0,
        )

    def _warn(self, exc: BaseException) -> None:
        """Once every few seconds, not once per request: an outage must not flood the logs."""
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            logger.warning("rate limiting is off: Redis failed (%s); serving unlimited", exc)


def rate_limited(decision: RateDecision, who: str) -> TooManyRequestsError:
    return TooManyRequestsError(
        f"rate limit of {decision.limit} requests per {decision.window_s}s exceeded for {who};"
        f" retry in {decision.retry_after_s}s",
        retry_after_s=decision.retry_after_s,
        headers=decision.headers(),
    )


def remember_headers(scope: Scope, decision: RateDecision | None) -> None:
    """Stash the headers for `RateLimitMiddleware` to add to whatever response follows:
    a route returning its own `Response` (an NDJSON stream) would drop headers set on
    FastAPI's injected `Response`, and error responses are built elsewhere."""
    if decision is not None:
        scope[SCOPE_HEADERS] = decision.headers()


class RateLimitMiddleware:
    """Per-account and per-IP limits, and the `RateLimit-*` headers of every response.

    Who a request counts against is decided from credentials that *verify*, never from
    headers being present, so a made-up credential buys nothing:

    - a bearer token that verifies (signature, expiry; no I/O) counts against its
      account (`user:<id>`, `RATELIMIT_USER_LIMIT`): one busy client behind a shared
      NAT address does not starve the others;
    - an `X-API-Key` on a key-limited route (one depending on a registered key limiter,
      the partner key check) is limited per key by that dependency (which also counts a
      failed key once against the client IP);
    - everything else, including an unverifiable token and a key sent anywhere keys
      are not read, counts against the client IP (`RATELIMIT_ANONYMOUS_LIMIT`).

    Health probes and the API docs are never limited: an orchestrator must always
    reach them. The client address is the ASGI `client`: the TCP peer, or behind a proxy
    listed in `API_TRUSTED_PROXIES` the forwarded client (docs/deployment.md).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope_state(scope)  # the limiter and token verifier the lifespan built
        limiter = state.get("ratelimiter")
        if limiter is None or not limiter.settings.enabled:
            # Limits off: no bucket, no count and no headers anywhere (the key
            # limiter's `hit` answers None too), so nothing to wrap.
            await self.app(scope, receive, send)
            return
        bucket = bucket_for(scope, limiter.settings, state.get("tokens"))
        if bucket is not None:
            who, limit = bucket
            decision = await limiter.hit(who, limit)
            scope[SCOPE_IP_COUNTED] = who.startswith("ip:")
            if decision is not None and not decision.allowed:
                await self._refuse(scope, receive, send, decision, who)
                return
            remember_headers(scope, decision)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: dict[str, str] | None = scope.get(SCOPE_HEADERS)
                if extra:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    message["headers"] = [
                        *message.get("headers", []),
                        *(
                            (name.lower().encode(), value.encode())
                            for name, value in extra.items()
                            if name.lower().encode() not in present
                        ),
                    ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, decision: RateDecision, who: str
    ) -> None:
        error = rate_limited(decision, who.replace(":", " ", 1))
        response = problem(
            Request(scope),
            status=error.status_code,
            title=error.title,
            detail=error.detail,
            type_slug=error.type_slug,
            headers=error.headers,
        )
        await response(scope, receive, send)
