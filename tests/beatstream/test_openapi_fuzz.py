"""Schemathesis against the app over the real stores: the OpenAPI document tells the truth.

Every operation of `/openapi.json` is called with generated requests, valid and
invalid, as four callers (anonymous, an editor, an admin, a partner key), and every
check is on: no 5xx, only documented statuses, documented content types, bodies and
headers matching their schemas, invalid data refused, valid data accepted, `Allow` on
405, and the stateful links between operations (a created resource can be read,
changed and deleted by the links the document declares).

Bounded: a few examples per operation, seeded and derandomized, so a failure here
reproduces with the same requests on every run and the run stays short.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import schemathesis
from elasticsearch import AsyncElasticsearch
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from pymongo import AsyncMongoClient
from schemathesis.python import asgi

from beatstream.app import create_app
from beatstream.auth.principals import Role
from beatstream.search.indices import drop_prefix
from beatstream.settings import RateLimitSettings, Settings
from beatstream.stores.clients import MongoDocument, RedisClient
from tests.fixtures.tokens import bearer

pytestmark = pytest.mark.integration

SEED = 20261130
MAX_EXAMPLES = 8

# Checks turned off, each with why. Keep this list short: every entry is a lie the
# document may tell without this test noticing.
EXCLUDED_CHECKS: dict[str, str] = {}

CALLERS = ("anonymous", "editor", "admin", "partner")

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "checks": {"enabled": True},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True},
        },
    }
)


@pytest.fixture(scope="module")
def fuzz_settings(base_settings: Settings) -> Settings:
    """Its own stores, indices managed (search and analytics answer), rate limits off:
    a refusal for volume is not what this run measures."""
    return base_settings.model_copy(
        update={
            "mongodb": base_settings.mongodb.model_copy(update={"db": "bs_test_fuzz"}),
            "elasticsearch": base_settings.elasticsearch.model_copy(
                update={"index_prefix": "bs-test-fuzz", "manage_indices": True}
            ),
            "redis": base_settings.redis.model_copy(update={"key_prefix": "bs:test:fuzz:"}),
            "ratelimit": RateLimitSettings(enabled=False),
        }
    )


@pytest.fixture(scope="module")
async def fuzz_stores(
    fuzz_settings: Settings,
    mongo_client: AsyncMongoClient[MongoDocument],
    es_client: AsyncElasticsearch,
    redis_client: RedisClient,
) -> AsyncIterator[Settings]:
    """Whatever the run writes is removed after it, like the per-test store fixtures do."""
    yield fuzz_settings
    await mongo_client.drop_database(fuzz_settings.mongodb.db)
    await drop_prefix(es_client, fuzz_settings.elasticsearch.index_prefix)
    prefix = fuzz_settings.redis.key_prefix
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await redis_client.delete(*keys)


@pytest.fixture(scope="module")
def fuzz_app(fuzz_stores: Settings) -> Iterator[FastAPI]:
    """The app, its lifespan run by schemathesis's own event-loop thread (where every
    request it sends is served), shut down at the end of the module."""
    app = create_app(fuzz_stores)
    yield app
    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def callers(served: FastAPI) -> dict[str, dict[str, str]]:
    admin = bearer(Role.admin)
    with asgi.get_client(served) as http:
        created = http.post("/v1/admin/keys", json={"name": "fuzz", "scopes": ["views:read"]},
                            headers=admin)
        assert created.status_code == 201, created.text
    return {
        "anonymous": {},
        "editor": bearer(Role.editor),
        "admin": admin,
        "partner": {"X-API-Key": created.json()["key"]},
    }


# Loaded at collection, when no store is reachable yet (the stores are session fixtures),
# from the document the app builds; `served` below checks the running app serves this
# very document. (schemathesis's fixture-loaded schemas need a pytest private attribute
# that pytest 9 no longer has.)
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi(), config=CONFIG)


@pytest.fixture(scope="module")
def served(fuzz_app: FastAPI) -> FastAPI:
    with asgi.get_client(fuzz_app) as http:
        assert http.get("/openapi.json").json() == schema.raw_schema
    schema.app = fuzz_app
    return fuzz_app


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_operations_conform(
    case: schemathesis.Case, served: FastAPI, callers: dict[str, dict[str, str]]
) -> None:
    """Each generated request, sent once per caller."""
    for headers in callers.values():
        case.call_and_validate(headers=headers, app=served)
