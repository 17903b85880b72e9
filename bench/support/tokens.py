"""Bearer tokens a benchmark's server accepts, for seeding and calling through the API."""

from __future__ import annotations

from datetime import UTC, datetime

from beanie import PydanticObjectId

from beatstream.auth.principals import Role
from beatstream.auth.tokens import TokenCodec
from beatstream.settings import Settings
from beatstream.stores.clients import create_mongo_client


async def bearer(settings: Settings, secret: str, role: Role = Role.admin) -> dict[str, str]:
    """An `Authorization` header a server started with `SECURITY_JWT_SECRET=secret` on
    `settings`' database accepts: benchmarks seed through the API as an admin. A token
    counts only while its account exists, so a bare one (no password) is stored."""
    subject = PydanticObjectId()
    now = datetime.now(UTC)
    client = create_mongo_client(settings.mongodb)
    try:
        await client[settings.mongodb.db].listeners.insert_one(
            {
                "_id": subject,
                "name": f"Bench {role.value}",
                "email": f"{subject}@bench.test",
                "year_of_birth": 1990,
                "country": "GB",
                "consent_to_share_data": False,
                "actions": [],
                "password_hash": None,
                "role": role.value,
                "token_generation": 0,
                "listener_key": None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    finally:
        await client.close()
    token = TokenCodec(secret, "HS256", ttl_s=3600).issue(subject, role).token
    return {"Authorization": f"Bearer {token}"}
