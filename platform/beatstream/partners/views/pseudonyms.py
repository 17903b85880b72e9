"""Pseudonymous listener keys and sealed cursors, both from one server secret.

A MongoDB view cannot hash, and a view's pipeline is readable by anyone who can list
collections, so the secret can never be part of one. The key is therefore computed
here, when a listener is written, and stored on the listener; the views publish only
that stored key. Without the secret the key cannot be linked back to a listener id
(HMAC-SHA256 is a PRF), and with it the server can recompute it at any time.

Feed cursors carry a listener's `updated_at` to the millisecond, a day-precise date
the views otherwise never publish (an action added today moves it to today), so they
are sealed: encrypted and authenticated with keys derived from the same secret. The
construction uses the standard library only (no `cryptography` here): HMAC-SHA256 as
a PRF in counter mode for the keystream and a separate HMAC-SHA256 tag over nonce and
ciphertext (encrypt-then-MAC). The nonce is synthetic, an HMAC of the plaintext, so
one position always seals to one token: partners walking the same pages share cache
entries, and equal tokens reveal only that two positions are equal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets

from bson import ObjectId

from beatstream.settings import ThirdPartySettings

logger = logging.getLogger(__name__)

KEY_BYTES = 18  # 144 bits: no collisions in practice, 24 url-safe characters
_NONCE_BYTES = 16
_TAG_BYTES = 16
_BLOCK = hashlib.sha256().digest_size


class InvalidTokenError(ValueError):
    """A sealed token this server did not issue, or that was altered."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Pseudonyms:
    """Derives independent sub-keys, so a listener key never doubles as a cursor key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the pseudonym secret must be at least 32 bytes")
        self._listener = self._derive(secret, b"listener-key")
        self._nonce = self._derive(secret, b"cursor-nonce")
        self._stream = self._derive(secret, b"cursor-stream")
        self._mac = self._derive(secret, b"cursor-mac")

    @classmethod
    def from_settings(cls, settings: ThirdPartySettings) -> Pseudonyms:
        secret = settings.pseudonym_secret
        return cls(secret.get_secret_value().encode()) if secret else cls.ephemeral()

    @classmethod
    def ephemeral(cls) -> Pseudonyms:
        """For development: a random secret, so keys change with every process."""
        logger.warning(
            "THIRDPARTY_PSEUDONYM_SECRET is not set: using an ephemeral secret, so listener"
            " keys and feed cursors change at every restart and differ between workers"
        )
        return cls(secrets.token_bytes(32))

    @staticmethod
    def _derive(secret: bytes, label: bytes) -> bytes:
        return hmac.new(secret, b"beatstream/thirdparty/" + label, hashlib.sha256).digest()

    def listener_key(self, listener_id: ObjectId) -> str:
        digest = hmac.new(self._listener, str(listener_id).encode(), hashlib.sha256).digest()
        return _b64(digest[:KEY_BYTES])

    def seal(self, plaintext: bytes) -> str:
        nonce = hmac.new(self._nonce, plaintext, hashlib.sha256).digest()[:_NONCE_BYTES]
        ciphertext = _xor(plaintext, self._keystream(nonce, len(plaintext)))
        return _b64(nonce + ciphertext + self._tag(nonce, ciphertext))

    def unseal(self, token: str) -> bytes:
        try:
            raw = _unb64(token)
        except (binascii.Error, ValueError) as exc:
            raise InvalidTokenError("not base64url") from exc
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise InvalidTokenError("too short")
        nonce, ciphertext, tag = (
            raw[:_NONCE_BYTES],
            raw[_NONCE_BYTES:-_TAG_BYTES],
            raw[-_TAG_BYTES:],
        )
        if not hmac.compare_digest(tag, self._tag(nonce, ciphertext)):
            raise InvalidTokenError("not issued by this server")
        return _xor(ciphertext, self._keystream(nonce, len(ciphertext)))

    def _tag(self, nonce: bytes, ciphertext: bytes) -> bytes:
        return hmac.new(self._mac, nonce + ciphertext, hashlib.sha256).digest()[:_TAG_BYTES]

    def _keystream(self, nonce: bytes, length: int) -> bytes:
        blocks = (length + _BLOCK - 1) // _BLOCK
        return b"".join(
            hmac.new(self._stream, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
            for counter in range(blocks)
        )[:length]
