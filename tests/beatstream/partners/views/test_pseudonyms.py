from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from bson import ObjectId

from beatstream.partners.views.pseudonyms import InvalidTokenError, Pseudonyms
from beatstream.settings import ThirdPartySettings


# Built inside each test, never at import: the mutation run swaps the code between
# tests, and an instance made at collection would keep the unmutated sub-keys.
def one() -> Pseudonyms:
    return Pseudonyms(b"a" * 32)


def other() -> Pseudonyms:
    return Pseudonyms(b"b" * 32)


def test_listener_key_is_stable_per_secret_and_unlinkable_across_secrets() -> None:
    listener_id = ObjectId()
    key = one().listener_key(listener_id)
    assert key == Pseudonyms(b"a" * 32).listener_key(listener_id)
    assert key != other().listener_key(listener_id)
    assert key != one().listener_key(ObjectId())
    assert len(key) == 24
    assert str(listener_id) not in key


def test_sealed_tokens_open_only_with_their_secret_and_unaltered() -> None:
    token = one().seal(b'{"t":1700000000123}')
    assert one().unseal(token) == b'{"t":1700000000123}'
    assert b"1700000000123" not in token.encode()
    assert one().seal(b'{"t":1700000000123}') == token  # one position, one token
    with pytest.raises(InvalidTokenError):
        other().unseal(token)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(InvalidTokenError):
        one().unseal(flipped)
    for junk in ("", "!!!", "AAAA"):
        with pytest.raises(InvalidTokenError):
            one().unseal(junk)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Pseudonyms(b"short")


def test_without_a_secret_an_ephemeral_one_is_used_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = Pseudonyms.from_settings(ThirdPartySettings())
    second = Pseudonyms.from_settings(ThirdPartySettings())
    listener_id = ObjectId()
    assert first.listener_key(listener_id) != second.listener_key(listener_id)
    assert [r.getMessage() for r in caplog.records if r.name.endswith("pseudonyms")] == [
        "THIRDPARTY_PSEUDONYM_SECRET is not set: using an ephemeral secret, so listener"
        " keys and feed cursors change at every restart and differ between workers"
    ] * 2
    configured = Pseudonyms.from_settings(ThirdPartySettings(pseudonym_secret="s" * 32))
    assert configured.listener_key(listener_id) == Pseudonyms(b"s" * 32).listener_key(listener_id)


# Fixed vectors and the construction spelled out: a round trip alone passes for a MAC
# over nothing, one keystream for every token, or a swapped derivation label.

VECTOR_SECRET = bytes(range(32))
VECTOR_ID = ObjectId("65a1b2c3d4e5f60718293a4b")
VECTOR_PLAINTEXT = b'{"t":1700000000123,"id":"65a1b2c3d4e5f60718293a4b"}'  # 51 bytes: 2 blocks


def vector() -> Pseudonyms:
    return Pseudonyms(VECTOR_SECRET)


def _unb64(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _subkey(label: bytes) -> bytes:
    return _hmac(VECTOR_SECRET, b"beatstream/thirdparty/" + label)


def test_listener_key_matches_its_fixed_vector() -> None:
    assert vector().listener_key(VECTOR_ID) == "-V6-ZTecYZWdwzRzXmBEPVQ1"
    expected = _hmac(_subkey(b"listener-key"), str(VECTOR_ID).encode())[:18]
    assert vector().listener_key(VECTOR_ID) == _b64(expected)


def test_sealed_token_matches_its_fixed_vector() -> None:
    assert vector().seal(VECTOR_PLAINTEXT) == (
        "dVN9MrJkZ0F-YtOKOYu_ET7ryNWSzXwAFvpUb-zztqu7nWI_whuwiPnBn6CL3a2Itd6g2i9TSIarcpDDv67N"
        "mrfBCUe37kFAWmteoDHNt-DhqVs"
    )
    assert vector().seal(b"") == "ehcy3gxJoYym8vt18cBbB38WYgIubXe_XZSw_pr9Aqo"
    assert vector().seal(b"6") == "qlxbYXW3pxjmcBK5Asymurl3ezwHTDeHRps4l46v7UZX"  # ends in X
    assert vector().unseal("ehcy3gxJoYym8vt18cBbB38WYgIubXe_XZSw_pr9Aqo") == b""


def test_sealing_is_the_documented_construction() -> None:
    """nonce = HMAC(k_nonce, pt)[:16]; ct = pt XOR HMAC(k_stream, nonce || counter32)...;
    tag = HMAC(k_mac, nonce || ct)[:16]; token = base64url(nonce || ct || tag)."""
    raw = _unb64(vector().seal(VECTOR_PLAINTEXT))
    nonce = _hmac(_subkey(b"cursor-nonce"), VECTOR_PLAINTEXT)[:16]
    stream = b"".join(
        _hmac(_subkey(b"cursor-stream"), nonce + counter.to_bytes(4, "big")) for counter in (0, 1)
    )
    ciphertext = bytes(a ^ b for a, b in zip(VECTOR_PLAINTEXT, stream, strict=False))
    tag = _hmac(_subkey(b"cursor-mac"), nonce + ciphertext)[:16]
    assert raw == nonce + ciphertext + tag


@pytest.mark.parametrize("length", [0, 1, 31, 32, 33, 64, 65, 100])
def test_every_length_round_trips_across_keystream_blocks(length: int) -> None:
    plaintext = bytes((7 * i + 3) % 256 for i in range(length))
    token = vector().seal(plaintext)
    assert len(_unb64(token)) == 16 + length + 16
    assert vector().unseal(token) == plaintext


def test_every_byte_of_a_token_is_authenticated() -> None:
    """Flip one bit in each byte of the nonce, the ciphertext and the tag in turn: a MAC
    that skips the nonce or the ciphertext (or covers nothing) lets one of them through."""
    raw = _unb64(vector().seal(VECTOR_PLAINTEXT))
    for index in range(len(raw)):
        for bit in (0x01, 0x80):
            altered = bytearray(raw)
            altered[index] ^= bit
            with pytest.raises(InvalidTokenError, match=r"^not issued by this server$"):
                vector().unseal(_b64(bytes(altered)))


@pytest.mark.parametrize("cut", [1, 16, 32])
def test_truncated_or_extended_tokens_are_refused(cut: int) -> None:
    raw = _unb64(vector().seal(VECTOR_PLAINTEXT))
    for altered in (raw[:-cut], raw[cut:], raw + raw[:cut]):
        with pytest.raises(InvalidTokenError):
            vector().unseal(_b64(altered))


def test_tokens_shorter_than_nonce_and_tag_are_refused_as_too_short() -> None:
    for length in (0, 1, 16, 31):
        with pytest.raises(InvalidTokenError, match=r"^too short$"):
            vector().unseal(_b64(bytes(length)))
    with pytest.raises(InvalidTokenError, match=r"^not base64url$"):
        vector().unseal("A")


def test_every_token_and_every_block_has_its_own_keystream() -> None:
    """With one keystream for every token, XOR of two ciphertexts is XOR of the plaintexts
    (either reveals the other); with one block repeated, a zero plaintext repeats too."""
    first, second = b"0" * 40, b"1" * 40
    raw_first, raw_second = _unb64(vector().seal(first)), _unb64(vector().seal(second))
    assert raw_first[:16] != raw_second[:16]  # distinct synthetic nonces
    ct_first, ct_second = raw_first[16:-16], raw_second[16:-16]
    assert bytes(a ^ b for a, b in zip(ct_first, ct_second, strict=True)) != bytes(
        a ^ b for a, b in zip(first, second, strict=True)
    )
    zeros = _unb64(vector().seal(bytes(64)))[16:-16]  # the keystream itself
    assert zeros[:32] != zeros[32:]
    assert zeros != bytes(64)


def test_a_secret_of_exactly_32_bytes_is_accepted_and_31_refused() -> None:
    Pseudonyms(b"x" * 32)
    with pytest.raises(ValueError, match=r"^the pseudonym secret must be at least 32 bytes$"):
        Pseudonyms(b"x" * 31)
