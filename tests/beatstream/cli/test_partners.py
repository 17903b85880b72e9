"""`beatstream partners backfill-keys` (and its old name, `beatstream thirdparty ...`) as an
operator runs it: a real process."""

from __future__ import annotations

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from tests.beatstream.cli.test_serve import run_cli
from tests.beatstream.partners.views.data import listener_document

SECRET = "operator-secret-" + "x" * 24


@pytest.mark.parametrize("group", ["partners", "thirdparty"])
async def test_backfill_keys_with_the_configured_secret(
    mongo_db: AsyncDatabase[MongoDocument], settings: Settings, group: str
) -> None:
    documents = [listener_document(keyed=False) for _ in range(3)]
    await mongo_db.listeners.insert_many(documents)
    env = {
        "MONGODB_URL": settings.mongodb.url,
        "MONGODB_DB": settings.mongodb.db,
        "THIRDPARTY_PSEUDONYM_SECRET": SECRET,
    }

    result = run_cli(group, "backfill-keys", "--batch-size", "2", env=env)

    assert result.returncode == 0, result.stderr
    assert "3 listeners keyed" in result.stdout
    expected = Pseudonyms(SECRET.encode())
    for document in documents:
        stored = await mongo_db.listeners.find_one({"_id": document["_id"]})
        assert stored is not None
        assert stored["listener_key"] == expected.listener_key(document["_id"])


async def test_backfill_keys_refuses_to_run_without_a_secret(
    mongo_db: AsyncDatabase[MongoDocument], settings: Settings
) -> None:
    await mongo_db.listeners.insert_one(listener_document(keyed=False))
    env = {
        "MONGODB_URL": settings.mongodb.url,
        "MONGODB_DB": settings.mongodb.db,
        "THIRDPARTY_PSEUDONYM_SECRET": "",
    }

    result = run_cli("thirdparty", "backfill-keys", env=env)

    assert result.returncode == 2
    assert "THIRDPARTY_PSEUDONYM_SECRET" in result.stderr
    assert await mongo_db.listeners.count_documents({"listener_key": None}) == 1
