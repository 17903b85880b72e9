"""Listeners and plays written straight into MongoDB (insert_many), as the seed loader
and bulk imports do: quicker than the API, and the same shape the API stores."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.stores.clients import MongoDocument

PSEUDONYMS = Pseudonyms(b"t" * 32)
PRICES = {"basic subscription": Decimal("4.99"), "premium subscription": Decimal("9.99")}


def listener_document(
    *,
    name: str = "Ada Lovelace",
    email: str | None = None,
    year_of_birth: int = 1987,
    country: str = "IT",
    consent: bool = True,
    actions: Iterable[tuple[str, datetime]] = (),
    keyed: bool = True,
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    listener_id = ObjectId()
    now = updated_at or datetime.now(UTC).replace(microsecond=0)
    return {
        "_id": listener_id,
        "name": name,
        "email": email or f"{listener_id}@example.com",
        "year_of_birth": year_of_birth,
        "country": country,
        "consent_to_share_data": consent,
        "actions": [
            {
                "action": action,
                "date": date,
                "amount": Decimal128(PRICES[action]) if action in PRICES else None,
            }
            for action, date in actions
        ],
        "listener_key": PSEUDONYMS.listener_key(listener_id) if keyed else None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


def many_listeners(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for n in range(count):
        date = start + timedelta(minutes=rng.randrange(2_000_000))
        yield listener_document(
            name=f"Listener {n}",
            year_of_birth=rng.randint(1950, 2008),
            country=rng.choice(("IT", "GB", "FR", "DE")),
            consent=True,
            actions=[("premium subscription", date)],
        )


async def insert_in_batches(
    db: AsyncDatabase[MongoDocument], documents: Iterable[dict[str, Any]], batch: int = 5000
) -> int:
    written = 0
    chunk: list[dict[str, Any]] = []
    for document in documents:
        chunk.append(document)
        if len(chunk) >= batch:
            await db.listeners.insert_many(chunk, ordered=False)
            written += len(chunk)
            chunk = []
    if chunk:
        await db.listeners.insert_many(chunk, ordered=False)
        written += len(chunk)
    return written
