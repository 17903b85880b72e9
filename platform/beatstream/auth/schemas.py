"""Request and response models of the auth endpoints (the login form is OAuth2's own)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from beanie import PydanticObjectId
from pydantic import ConfigDict, Field, SecretStr

from beatstream.auth.principals import Role
from beatstream.common.inputs import InputModel, OutputModel

Password = Annotated[
    SecretStr,
    Field(
        min_length=8,
        max_length=256,
        examples=["correct horse battery staple"],
        description="8 to 256 characters; stored only as an argon2id hash, never returned.",
    ),
]


class PasswordChange(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "correct horse battery staple",
                    "new_password": "a longer and newer passphrase",
                }
            ]
        }
    )

    # Not length-checked: whatever it is, it is only compared with the stored hash.
    current_password: SecretStr = Field(max_length=256)
    new_password: Password


class TokenOut(OutputModel):
    """RFC 6749 §5.1: what an OAuth2 client library expects back from a token endpoint."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIs...",
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name
    expires_in: int = Field(description="Seconds until the token expires.")


class MeOut(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6650f1c2a1b2c3d4e5f60720",
                    "name": "Ada Lovelace",
                    "email": "ada@example.com",
                    "role": "listener",
                    "token_expires_at": "2026-01-05T10:15:00Z",
                }
            ]
        }
    )

    id: PydanticObjectId
    name: str
    email: str
    role: Role = Field(description="The account's current role: what this token may do now.")
    token_expires_at: datetime
