"""Who a request counts against (`bucket_for`), as a pure function of the ASGI scope.

Every case varies one thing (path, header, token, client address) with distinct limits
per kind of bucket, so a swapped limit, an inverted API-key exemption or one shared
anonymous bucket each fail a case here; tests/beatstream/test_ratelimit.py checks the
same over HTTP against real Redis. Scopes carry the real app, as Starlette's do: which
routes are key-limited is read from its route table (never started, no store needed).
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from beanie import PydanticObjectId

from beatstream import ratelimit
from beatstream.app import create_app
from beatstream.auth.principals import Role
from beatstream.ratelimit import RateLimiter, RateLimitMiddleware, bucket_for
from beatstream.settings import RateLimitSettings, Settings
from tests.fixtures.tokens import TEST_TOKENS

SETTINGS = RateLimitSettings(key_limit=11, anonymous_limit=22, user_limit=33)
ADA = PydanticObjectId("65a1b2c3d4e5f60718293a4b")
ADA_TOKEN = TEST_TOKENS.issue(ADA, Role.listener).token
APP = create_app(Settings(_env_file=None))


def _scope(
    path: str = "/v1/songs",
    headers: dict[str, str] | None = None,
    client: tuple[str, int] | None = ("203.0.113.7", 50000),
) -> dict[str, Any]:
    return {
        "type": "http",
        "path": path,
        "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()],
        "client": client,
        "app": APP,
    }


@pytest.mark.parametrize(
    "path",
    ["/health/live", "/health/ready", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"],
)
def test_probes_and_docs_are_never_limited(path: str) -> None:
    assert bucket_for(_scope(path), SETTINGS, TEST_TOKENS) is None
    assert bucket_for(_scope(path, {"X-API-Key": "k"}), SETTINGS, TEST_TOKENS) is None


@pytest.mark.parametrize("path", ["/v1/health", "/healthz", "/v1/docs", "/v1/songs", "/"])
def test_everything_else_is_limited(path: str) -> None:
    assert bucket_for(_scope(path), SETTINGS, TEST_TOKENS) == ("ip:203.0.113.7", 22)


def test_an_api_key_on_a_third_party_route_is_left_to_the_route() -> None:
    scope = _scope("/v1/thirdparty/play_stats", {"X-API-Key": "bsk_x_y"})
    assert bucket_for(scope, SETTINGS, TEST_TOKENS) is None


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/thirdparty/play_stats", {}),  # a third-party route without a key
        ("/v1/thirdparty/play_stats", {"X-Other": "k"}),
        ("/v1/songs", {"X-API-Key": "bsk_x_y"}),  # a key where keys are not read
        ("/v1/thirdpartyx", {"X-API-Key": "bsk_x_y"}),
    ],
)
def test_an_api_key_elsewhere_or_no_key_counts_against_the_ip(
    path: str, headers: dict[str, str]
) -> None:
    assert bucket_for(_scope(path, headers), SETTINGS, TEST_TOKENS) == ("ip:203.0.113.7", 22)


@pytest.mark.parametrize(
    "authorization", [f"Bearer {ADA_TOKEN}", f"bearer {ADA_TOKEN}", f"BEARER  {ADA_TOKEN} "]
)
def test_a_verified_bearer_token_counts_against_its_account(authorization: str) -> None:
    scope = _scope(headers={"Authorization": authorization})
    assert bucket_for(scope, SETTINGS, TEST_TOKENS) == (f"user:{ADA}", 33)


def test_a_verified_token_counts_per_account_on_a_third_party_route_too() -> None:
    scope = _scope("/v1/thirdparty/play_stats", {"Authorization": f"Bearer {ADA_TOKEN}"})
    assert bucket_for(scope, SETTINGS, TEST_TOKENS) == (f"user:{ADA}", 33)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-token",
        f"Basic {ADA_TOKEN}",
        f"Token {ADA_TOKEN}",
        "Bearer",
        "Bearer ",
        ADA_TOKEN,
        f"Bearer {ADA_TOKEN}x",
    ],
)
def test_a_credential_that_does_not_verify_counts_against_the_ip(authorization: str) -> None:
    scope = _scope(headers={"Authorization": authorization})
    assert bucket_for(scope, SETTINGS, TEST_TOKENS) == ("ip:203.0.113.7", 22)


def test_without_a_verifier_a_token_counts_against_the_ip() -> None:
    scope = _scope(headers={"Authorization": f"Bearer {ADA_TOKEN}"})
    assert bucket_for(scope, SETTINGS, None) == ("ip:203.0.113.7", 22)


def test_each_client_address_has_its_own_bucket_whatever_the_port() -> None:
    buckets = {
        bucket_for(_scope(client=client), SETTINGS, TEST_TOKENS)
        for client in [("203.0.113.7", 1), ("203.0.113.7", 2), ("203.0.113.8", 1), ("::1", 1)]
    }
    assert buckets == {("ip:203.0.113.7", 22), ("ip:203.0.113.8", 22), ("ip:::1", 22)}


def test_a_scope_without_a_client_counts_as_unknown() -> None:
    assert bucket_for(_scope(client=None), SETTINGS, TEST_TOKENS) == ("ip:unknown", 22)
    del_client = _scope()
    del del_client["client"]
    assert bucket_for(del_client, SETTINGS, TEST_TOKENS) == ("ip:unknown", 22)


def test_a_minimal_scope_without_path_or_headers_counts_against_the_ip() -> None:
    assert bucket_for({"type": "http", "client": ("203.0.113.9", 1)}, SETTINGS, TEST_TOKENS) == (
        "ip:203.0.113.9",
        22,
    )


async def test_with_limits_off_the_middleware_only_passes_the_request_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No bucket is worked out and `send` is not wrapped: nothing could be counted or added."""
    worked_out: list[object] = []
    monkeypatch.setattr(ratelimit, "bucket_for", lambda *args: worked_out.append(args))
    sends: list[object] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        sends.append(send)

    async def send(message: Any) -> None: ...

    async def receive() -> Any: ...

    class NoRedis:
        def register_script(self, script: str) -> object:
            return object()

    limiter = RateLimiter(cast(Any, NoRedis()), "t:", RateLimitSettings(enabled=False))
    scope = {**_scope(), "state": {"ratelimiter": limiter}}
    await RateLimitMiddleware(app)(scope, receive, send)

    assert worked_out == []
    assert sends == [send]
