"""The app state: what the lifespan builds once per process, and the one place that reads it.

`AppState` is what `beatstream.lifespan` yields; Starlette hands each request a shallow
copy of it as `request.scope["state"]` (`request.state`). Every getter of it lives here,
typed, so a key is spelled once; the packages' `dependencies.py` (and `beatstream.deps`)
wrap these getters in their `Annotated` aliases (`TokenCodecDep`, `CacheDep`...).

Infrastructure imports this module (`deps`, `ratelimit`), and infrastructure imports no
domain, so neither does this module at runtime: the domain types below are imported
under `TYPE_CHECKING` only. That is safe because annotations stay strings here
(`from __future__ import annotations`) and FastAPI evaluates only a dependency's
parameters (`request: Request`), never its return type.

The getters are `async def`: FastAPI runs plain `def` dependencies in its thread pool,
a hop that costs more than these lookups themselves on every request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, cast

from fastapi import Request
from starlette.types import Scope

if TYPE_CHECKING:
    from beatstream.auth.passwords import Passwords
    from beatstream.auth.sessions import AccountStates
    from beatstream.auth.tokens import TokenCodec
    from beatstream.cache.reads import HotReads
    from beatstream.cache.store import ResponseCache
    from beatstream.health.service import ReadinessProbe
    from beatstream.listeners.service import ListenerHooks
    from beatstream.partners.service import KeyCache
    from beatstream.partners.views.definitions import ActiveViews
    from beatstream.partners.views.pseudonyms import Pseudonyms
    from beatstream.ratelimit import RateLimiter
    from beatstream.settings import Settings
    from beatstream.stores import Stores
    from beatstream.stores.capabilities import ServerCapabilities


class AppState(TypedDict):
    """What the lifespan builds and request handlers find on `request.state`."""

    settings: Settings
    stores: Stores
    capabilities: ServerCapabilities
    readiness: ReadinessProbe
    cache: ResponseCache
    hot_reads: HotReads[Any]
    tokens: TokenCodec
    passwords: Passwords
    accounts: AccountStates
    ratelimiter: RateLimiter
    key_cache: KeyCache
    views: ActiveViews
    pseudonyms: Pseudonyms
    listener_hooks: ListenerHooks


def scope_state(scope: Scope) -> AppState:
    """The state of a raw ASGI scope, for middleware. Empty when no lifespan ran, so
    middleware reads it with `.get` and does without what is missing."""
    return cast("AppState", scope.get("state", {}))


def app_state(request: Request) -> AppState:
    """The state of a request (the same dict `request.state` wraps)."""
    return scope_state(request.scope)


# Infrastructure


async def get_settings_from_state(request: Request) -> Settings:
    """The settings this app was built with (tests build their own: not `get_settings()`)."""
    return app_state(request)["settings"]


async def get_stores(request: Request) -> Stores:
    return app_state(request)["stores"]


async def get_capabilities(request: Request) -> ServerCapabilities:
    return app_state(request)["capabilities"]


async def get_response_cache(request: Request) -> ResponseCache:
    """One cache per process, so single flight spans all requests."""
    return app_state(request)["cache"]


async def get_hot_reads(request: Request) -> HotReads[Any]:
    """One per process: what it keeps is served to every request of the process."""
    return app_state(request)["hot_reads"]


# Domain services the lifespan built (types named for the type checker only)


async def get_token_codec(request: Request) -> TokenCodec:
    return app_state(request)["tokens"]


async def get_passwords(request: Request) -> Passwords:
    return app_state(request)["passwords"]


async def get_account_states(request: Request) -> AccountStates:
    return app_state(request)["accounts"]


async def get_readiness_probe(request: Request) -> ReadinessProbe:
    return app_state(request)["readiness"]


async def get_active_views(request: Request) -> ActiveViews:
    return app_state(request)["views"]


async def get_pseudonyms(request: Request) -> Pseudonyms:
    return app_state(request)["pseudonyms"]


async def get_listener_hooks(request: Request) -> ListenerHooks:
    return app_state(request)["listener_hooks"]


# Read with `.get`: the partner key check does without a missing limiter or key cache
# (the lifespan always provides both).


async def find_ratelimiter(request: Request) -> RateLimiter | None:
    return app_state(request).get("ratelimiter")


async def find_key_cache(request: Request) -> KeyCache | None:
    return app_state(request).get("key_cache")
