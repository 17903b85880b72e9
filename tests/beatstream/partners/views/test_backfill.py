"""Listeners stored without a pseudonymous key stay out of every view until backfilled."""

from __future__ import annotations

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.partners.views.service import backfill_listener_keys
from beatstream.stores.clients import MongoDocument
from tests.beatstream.partners.views.data import PSEUDONYMS, insert_in_batches, listener_document


async def test_backfill_keys_only_keyless_listeners_and_they_enter_the_views(
    client: httpx.AsyncClient,
    partner_headers: dict[str, str],
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    keyless = [listener_document(keyed=False) for _ in range(7)]
    keyless[0].pop("listener_key")  # written before the field existed: no field at all
    keyed = listener_document()
    await insert_in_batches(mongo_db, [*keyless, keyed])

    feed = await client.get(
        "/v1/thirdparty/listener_actions", params={"changes_since": "0"}, headers=partner_headers
    )
    assert [row["listener_key"] for row in feed.json()["items"]] == [keyed["listener_key"]]

    assert await backfill_listener_keys(PSEUDONYMS, batch_size=3) == 7
    assert await backfill_listener_keys(PSEUDONYMS, batch_size=3) == 0

    for document in keyless:
        stored = await mongo_db.listeners.find_one({"_id": document["_id"]})
        assert stored is not None
        assert stored["listener_key"] == PSEUDONYMS.listener_key(document["_id"])
        assert stored["version"] == 2
        assert stored["updated_at"] > document["updated_at"]
    untouched = await mongo_db.listeners.find_one({"_id": keyed["_id"]})
    assert untouched is not None
    assert untouched["version"] == 1
    export = await client.get(
        "/v1/thirdparty/listener_actions", params={"format": "ndjson"}, headers=partner_headers
    )
    assert len(export.content.splitlines()) == 8
