"""`beatstream keys` as an operator runs it: a real process against the real MongoDB."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from tests.beatstream.cli.test_serve import run_cli
from tests.fixtures.ports import unused_port


@pytest.fixture
def keys_cli(settings: Settings, mongo_db: AsyncDatabase[MongoDocument]) -> KeysCli:
    return KeysCli(settings.mongodb.url, settings.mongodb.db)


class KeysCli:
    def __init__(self, url: str, db: str) -> None:
        # Generous: a busy shared MongoDB must not read as a down one. The down-server
        # test points at a closed port, which is refused at once anyway.
        self.env = {
            "MONGODB_URL": url,
            "MONGODB_DB": db,
            "MONGODB_SERVER_SELECTION_TIMEOUT_MS": "10000",
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("keys", *args, env=self.env)


async def test_create_prints_the_key_once_and_stores_its_digest(
    keys_cli: KeysCli, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    result = keys_cli(
        "create",
        "--name",
        "acme",
        "--scopes",
        "views:read:play_stats,views:read:listener_actions",
        "--rate-limit",
        "30",
    )

    assert result.returncode == 0, result.stderr
    plaintext = result.stdout.strip()
    assert plaintext.startswith("bsk_")
    assert len(result.stdout.splitlines()) == 1
    key_id = plaintext[4:20]
    assert f"created key {key_id} for acme" in result.stderr
    stored = await mongo_db.api_keys.find_one({"key_id": key_id})
    assert stored is not None
    assert stored["secret_sha256"] == hashlib.sha256(plaintext[21:].encode()).hexdigest()
    assert stored["scopes"] == ["views:read:listener_actions", "views:read:play_stats"]
    assert stored["rate_limit"] == 30


async def test_an_unknown_scope_is_exit_2_and_creates_nothing(
    keys_cli: KeysCli, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    result = keys_cli("create", "--name", "acme", "--scopes", "views:read", "--scope", "views:all")

    assert result.returncode == 2
    assert "unknown scope(s): views:all" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert await mongo_db.api_keys.count_documents({}) == 0


def test_list_never_shows_secrets_and_revoke_marks_the_key(keys_cli: KeysCli) -> None:
    first = keys_cli("create", "--name", "acme", "--scopes", "views:read").stdout.strip()
    second = keys_cli("create", "--name", "globex", "--scopes", "views:read").stdout.strip()

    revoked = keys_cli("revoke", first[4:20])
    again = keys_cli("revoke", first[4:20])
    listed = keys_cli("list")

    assert revoked.returncode == 0, revoked.stderr
    assert again.returncode == 1
    assert f"no live key with id {first[4:20]}" in again.stderr
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [[first[4:20], "acme"], [second[4:20], "globex"]]
    assert "revoked=-" not in lines[0]
    assert "revoked=-" in lines[1]
    assert first[21:] not in listed.stdout
    assert second[21:] not in listed.stdout


def test_mongodb_unreachable_is_one_line_exit_1(keys_cli: KeysCli) -> None:
    keys_cli.env["MONGODB_URL"] = f"mongodb://127.0.0.1:{unused_port()}/?directConnection=true"
    keys_cli.env["MONGODB_SERVER_SELECTION_TIMEOUT_MS"] = "1000"

    result = keys_cli("list")

    assert result.returncode == 1
    assert "error: MongoDB" in result.stderr
    assert "Traceback" not in result.stderr
