"""Process lifespan: open the three stores once, prove them reachable, close them at exit.

A store that cannot be reached at start stops the process: serving requests that
will all fail helps nobody, and an orchestrator restarting us is the right response.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from beanie import init_beanie
from fastapi import FastAPI
from pymongo.monitoring import CommandListener

from beatstream.auth.passwords import Passwords
from beatstream.auth.repository import account_state
from beatstream.auth.sessions import AccountStates
from beatstream.auth.tokens import TokenCodec
from beatstream.cache.reads import HotReads
from beatstream.cache.store import ResponseCache
from beatstream.documents import DOCUMENT_MODELS
from beatstream.errors import StoreUnavailableError
from beatstream.flows import ListenerFlows
from beatstream.health.service import ReadinessProbe
from beatstream.heap import settled_heap
from beatstream.metrics.registry import process_exited
from beatstream.partners.repository import ensure_audit_retention
from beatstream.partners.service import KeyCache
from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.partners.views.service import start_views
from beatstream.ratelimit import RateLimiter
from beatstream.search.indices import ensure_search_indices
from beatstream.settings import Settings
from beatstream.state import AppState
from beatstream.stores import Stores, close_stores, open_stores, require_all_up
from beatstream.stores.capabilities import ServerCapabilities

logger = logging.getLogger(__name__)


def build_lifespan(
    settings: Settings, mongo_listeners: Sequence[CommandListener] = ()
) -> Callable[[FastAPI], AbstractAsyncContextManager[AppState]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[AppState]:
        # Before the stores: a missing secret is warned about even when a store is down.
        tokens = TokenCodec.from_settings(settings.security)
        passwords = Passwords(settings.security)
        stores: Stores | None = None
        try:
            stores = open_stores(settings, mongo_listeners)
            statuses = await require_all_up(stores, settings.startup.ping_timeout_s)
        except StoreUnavailableError as exc:
            logger.error("cannot start: %s", exc.detail, extra={"store": exc.store})
            if stores is not None:
                await close_stores(stores)
            raise
        for status in statuses:
            logger.info(
                "store ready",
                extra={
                    "store": status.name,
                    "url": status.url,
                    "version": status.version,
                    "rtt_ms": status.rtt_ms,
                },
            )
        await init_beanie(database=stores.mongo_db, document_models=DOCUMENT_MODELS)
        await ensure_audit_retention(settings.partners.audit_retention_days)
        capabilities = await ServerCapabilities.detect(stores.mongo)
        views = await start_views(stores.mongo_db, capabilities, settings.thirdparty.min_group_size)
        if settings.elasticsearch.manage_indices:
            await ensure_search_indices(stores.es, settings.elasticsearch)
        cache = ResponseCache(stores.redis, settings.redis.key_prefix)
        pseudonyms = Pseudonyms.from_settings(settings.thirdparty)
        try:
            state = AppState(
                settings=settings,
                stores=stores,
                capabilities=capabilities,
                readiness=ReadinessProbe(
                    stores, settings.health.ping_timeout_s, settings.health.cache_ttl_s
                ),
                cache=cache,
                hot_reads=HotReads(
                    cache, settings.api.hot_read_entries, settings.api.hot_read_max_age_s
                ),
                tokens=tokens,
                passwords=passwords,
                accounts=AccountStates(settings.security.account_cache_ttl_s, account_state),
                ratelimiter=RateLimiter(
                    stores.redis, settings.redis.key_prefix, settings.ratelimit
                ),
                key_cache=KeyCache(settings.partners.key_cache_ttl_s),
                views=views,
                pseudonyms=pseudonyms,
                listener_hooks=ListenerFlows(pseudonyms, cache),
            )
            with settled_heap():  # last: what start-up built is never scanned again
                yield state
        finally:
            await close_stores(stores)
            process_exited(os.getpid())
            logger.info("stores closed")

    return lifespan
