"""Signed access tokens (JWT, HS256): issue and verify, with no I/O.

The signature proves who issued a token; whether it still counts is decided per
request against the account (`dependencies`): logout puts the token's id on a Redis
denylist, and the `gen` claim must match the account's token generation, which
logout-everywhere, a password change and erasure move on.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from beanie import PydanticObjectId
from bson.errors import InvalidId

from beatstream.auth.principals import Principal, Role
from beatstream.errors import UnauthorizedError
from beatstream.settings import SecuritySettings

logger = logging.getLogger(__name__)

REQUIRED_CLAIMS = ["exp", "iat", "sub", "role", "jti"]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    principal: Principal
    expires_in: int


class TokenCodec:
    """Issues and verifies tokens with one secret; `repr` never shows the secret."""

    def __init__(self, secret: str, algorithm: str, ttl_s: int) -> None:
        self._secret = secret
        self.algorithm = algorithm
        self.ttl_s = ttl_s

    def __repr__(self) -> str:
        return f"TokenCodec(algorithm={self.algorithm!r}, ttl_s={self.ttl_s})"

    @classmethod
    def from_settings(cls, settings: SecuritySettings) -> TokenCodec:
        """The configured secret, or a random one for this process only (with a warning)."""
        if settings.jwt_secret is None:
            logger.warning(
                "SECURITY_JWT_SECRET is not set: using a random secret for this process; "
                "access tokens will not survive a restart or work across processes"
            )
            secret = secrets.token_urlsafe(48)
        else:
            secret = settings.jwt_secret.get_secret_value()
        return cls(secret, settings.jwt_algorithm, settings.access_token_ttl_s)

    def issue(
        self,
        subject: PydanticObjectId,
        role: Role,
        *,
        generation: int = 0,
        now: datetime | None = None,
    ) -> IssuedToken:
        issued_at = (now or datetime.now(UTC)).replace(microsecond=0)
        expires_at = issued_at + timedelta(seconds=self.ttl_s)
        token_id = secrets.token_urlsafe(16)
        claims = {
            "sub": str(subject),
            "role": role.value,
            "jti": token_id,
            "iat": issued_at,
            "exp": expires_at,
            "gen": generation,
        }
        token = jwt.encode(claims, self._secret, algorithm=self.algorithm)
        principal = Principal(
            subject=subject,
            role=role,
            token_id=token_id,
            expires_at=expires_at,
            generation=generation,
        )
        return IssuedToken(token=token, principal=principal, expires_in=self.ttl_s)

    def verify(self, token: str) -> Principal:
        """The principal a token proves, or 401.

        The algorithm is ours, never the token header's (`alg: none` and RS/HS
        confusion fail here), and every claim the API relies on must be present.
        """
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("the access token has expired", invalid_token=True) from None
        except jwt.InvalidTokenError:
            raise UnauthorizedError("the access token is not valid", invalid_token=True) from None
        try:
            return Principal(
                subject=PydanticObjectId(claims["sub"]),
                role=Role(claims["role"]),
                token_id=_token_id(claims["jti"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
                generation=_generation(claims.get("gen", 0)),
            )
        except (InvalidId, ValueError, TypeError):
            raise UnauthorizedError("the access token is not valid", invalid_token=True) from None


def _generation(value: object) -> int:
    """Absent means 0: tokens issued before generations existed match accounts that
    never moved theirs, so introducing them signed nobody out."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("gen must be a non-negative integer")
    return value


def _token_id(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise ValueError("jti must be a short string")
    return value
