"""Access tokens as pure logic: what verifies, and every way a token must not."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from beanie import PydanticObjectId
from pydantic import SecretStr

from beatstream.auth.principals import Principal, Role
from beatstream.auth.tokens import TokenCodec
from beatstream.errors import UnauthorizedError
from beatstream.settings import SecuritySettings

SECRET = "unit-test-secret-" + "k" * 60
CODEC = TokenCodec(SECRET, "HS256", ttl_s=900)


def _claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(PydanticObjectId()),
        "role": "listener",
        "jti": "abc123",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _rejected(token: str) -> UnauthorizedError:
    with pytest.raises(UnauthorizedError) as caught:
        CODEC.verify(token)
    assert caught.value.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    return caught.value


def test_an_issued_token_verifies_to_its_principal() -> None:
    subject = PydanticObjectId()
    issued = CODEC.issue(subject, Role.editor)

    principal = CODEC.verify(issued.token)

    assert principal == issued.principal
    assert principal.subject == subject
    assert principal.role is Role.editor
    assert issued.expires_in == 900
    assert principal.expires_at - datetime.now(UTC) <= timedelta(seconds=900)


def test_each_token_has_its_own_id() -> None:
    subject = PydanticObjectId()
    ids = {CODEC.issue(subject, Role.listener).principal.token_id for _ in range(50)}
    assert len(ids) == 50


def test_an_expired_token_is_refused_as_expired() -> None:
    issued = CODEC.issue(PydanticObjectId(), Role.admin, now=datetime.now(UTC) - timedelta(hours=1))
    assert _rejected(issued.token).detail == "the access token has expired"


def test_a_tampered_payload_is_refused() -> None:
    header, payload, signature = CODEC.issue(PydanticObjectId(), Role.listener).token.split(".")
    claims = jwt.decode(f"{header}.{payload}.{signature}", options={"verify_signature": False})
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode()).rstrip(b"=")
    assert _rejected(f"{header}.{forged.decode()}.{signature}").detail == (
        "the access token is not valid"
    )


def test_a_token_signed_with_another_secret_is_refused() -> None:
    _rejected(jwt.encode(_claims(), "another-secret-" + "z" * 40, algorithm="HS256"))


def test_alg_none_is_refused() -> None:
    _rejected(jwt.encode(_claims(role="admin"), None, algorithm="none"))


def test_another_hmac_algorithm_is_refused_even_with_the_right_secret() -> None:
    """The algorithm is ours to choose, not the token header's."""
    _rejected(jwt.encode(_claims(), SECRET, algorithm="HS512"))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "role", "jti"])
def test_a_token_missing_a_required_claim_is_refused(missing: str) -> None:
    _rejected(jwt.encode(_claims(**{missing: None}), SECRET, algorithm="HS256"))


@pytest.mark.parametrize(
    "changes",
    [
        {"role": "superuser"},
        {"sub": "not-an-object-id"},
        {"jti": 42},
        {"jti": "x" * 65},
    ],
    ids=["unknown-role", "bad-subject", "non-string-jti", "long-jti"],
)
def test_a_token_with_a_malformed_claim_is_refused(changes: dict[str, Any]) -> None:
    _rejected(jwt.encode(_claims(**changes), SECRET, algorithm="HS256"))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_refused(garbage: str) -> None:
    _rejected(garbage)


def test_without_a_configured_secret_a_random_one_is_made_and_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="beatstream.auth.tokens"):
        first = TokenCodec.from_settings(SecuritySettings())
        second = TokenCodec.from_settings(SecuritySettings())

    assert "SECURITY_JWT_SECRET is not set" in caplog.text
    assert "will not survive a restart" in caplog.text
    token = first.issue(PydanticObjectId(), Role.listener).token
    assert first.verify(token).role is Role.listener
    with pytest.raises(UnauthorizedError):
        second.verify(token)


def test_a_configured_secret_is_used_and_never_shown() -> None:
    settings = SecuritySettings(jwt_secret=SecretStr(SECRET))
    codec = TokenCodec.from_settings(settings)

    assert CODEC.verify(codec.issue(PydanticObjectId(), Role.admin).token).role is Role.admin
    assert SECRET not in repr(codec)
    assert SECRET not in repr(settings)


def test_a_short_secret_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="jwt_secret"):
        SecuritySettings(jwt_secret=SecretStr("too-short"))


def test_only_an_admin_or_the_owner_may_act_for_a_listener() -> None:
    owner, other = PydanticObjectId(), PydanticObjectId()
    expires = datetime.now(UTC)
    as_owner = Principal(owner, Role.listener, "t1", expires)
    as_editor = Principal(other, Role.editor, "t2", expires)
    as_admin = Principal(other, Role.admin, "t3", expires)

    assert as_owner.may_act_for(owner)
    assert not as_owner.may_act_for(other)
    assert not as_editor.may_act_for(owner)
    assert as_admin.may_act_for(owner)
