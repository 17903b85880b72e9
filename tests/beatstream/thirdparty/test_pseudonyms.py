from __future__ import annotations

import pytest
from bson import ObjectId

from beatstream.settings import ThirdPartySettings
from beatstream.thirdparty.pseudonyms import InvalidTokenError, Pseudonyms

ONE = Pseudonyms(b"a" * 32)
OTHER = Pseudonyms(b"b" * 32)


def test_listener_key_is_stable_per_secret_and_unlinkable_across_secrets() -> None:
    listener_id = ObjectId()
    key = ONE.listener_key(listener_id)
    assert key == Pseudonyms(b"a" * 32).listener_key(listener_id)
    assert key != OTHER.listener_key(listener_id)
    assert key != ONE.listener_key(ObjectId())
    assert len(key) == 24
    assert str(listener_id) not in key


def test_sealed_tokens_open_only_with_their_secret_and_unaltered() -> None:
    token = ONE.seal(b'{"t":1700000000123}')
    assert ONE.unseal(token) == b'{"t":1700000000123}'
    assert b"1700000000123" not in token.encode()
    assert ONE.seal(b'{"t":1700000000123}') == token  # one position, one token
    with pytest.raises(InvalidTokenError):
        OTHER.unseal(token)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(InvalidTokenError):
        ONE.unseal(flipped)
    for junk in ("", "!!!", "AAAA"):
        with pytest.raises(InvalidTokenError):
            ONE.unseal(junk)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Pseudonyms(b"short")


def test_without_a_secret_an_ephemeral_one_is_used_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    one = Pseudonyms.from_settings(ThirdPartySettings())
    two = Pseudonyms.from_settings(ThirdPartySettings())
    listener_id = ObjectId()
    assert one.listener_key(listener_id) != two.listener_key(listener_id)
    assert "THIRDPARTY_PSEUDONYM_SECRET is not set" in caplog.text
    configured = Pseudonyms.from_settings(ThirdPartySettings(pseudonym_secret="s" * 32))
    assert configured.listener_key(listener_id) == Pseudonyms(b"s" * 32).listener_key(listener_id)
