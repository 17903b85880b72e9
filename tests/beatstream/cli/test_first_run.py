"""The first run as `make serve` does it, in a directory of its own: `beatstream init`
writes `.env`, and every command run there (demo, seed, keys, accounts, sync, serve)
takes its secrets and its stores from that file alone."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from dotenv import dotenv_values
from pymongo import AsyncMongoClient

from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument
from tests.fixtures.ports import unused_port
from tests.fixtures.resolve import ResolvedStore

# Every variable a `Settings` section reads starts with one of these: none may come
# from the test's own environment, or the file would not be what the commands read.
SECTIONS = tuple(f"{name.upper()}_" for name in Settings.model_fields)
STARTUP_BOUND_S = 180


def clean_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith(SECTIONS) and name != "BEATSTREAM_DEMO"
    }


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beatstream", *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
async def cli_db(mongo_client: AsyncMongoClient[MongoDocument]) -> AsyncIterator[str]:
    name = f"bs_test_first_run_{uuid.uuid4().hex[:8]}"
    yield name
    await mongo_client.drop_database(name)


@pytest.fixture
def workdir(
    tmp_path: Path,
    resolved_stores: dict[str, ResolvedStore],
    cli_db: str,
    es_prefix: str,
    redis_prefix: str,
) -> Path:
    """A directory where `beatstream init` ran, then this test's stores were added to
    the `.env` (only there), as an operator would add their own settings."""
    result = run(tmp_path, "init")
    assert result.returncode == 0, result.stderr
    assert "created .env (mode 0600)" in result.stdout
    with (tmp_path / ".env").open("a") as env:
        env.write(
            f"MONGODB_URL={resolved_stores['mongodb'].url}\n"
            f"MONGODB_DB={cli_db}\n"
            f"ELASTICSEARCH_URL={resolved_stores['elasticsearch'].url}\n"
            f"ELASTICSEARCH_INDEX_PREFIX={es_prefix}\n"
            f"REDIS_URL={resolved_stores['redis'].url}\n"
            f"REDIS_KEY_PREFIX={redis_prefix}\n"
            f"API_PORT={unused_port()}\n"
            # The cheapest argon2id: the same code path, a fraction of the cost.
            "SECURITY_PASSWORD_TIME_COST=1\nSECURITY_PASSWORD_MEMORY_KIB=1024\n"
            "SECURITY_PASSWORD_PARALLELISM=1\n"
        )
    return tmp_path


def test_init_creates_a_private_env_once_and_never_rewrites_it(tmp_path: Path) -> None:
    first = run(tmp_path, "init")
    path = tmp_path / ".env"
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = path.read_bytes()

    again = run(tmp_path, "init")

    assert again.returncode == 0, again.stderr
    assert ".env exists; left unchanged" in again.stdout
    assert again.stderr == ""
    assert path.read_bytes() == written


def test_init_names_the_secrets_an_existing_file_lacks(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SECURITY_JWT_SECRET=\n")

    result = run(tmp_path, "init")

    assert result.returncode == 0
    assert "does not set SECURITY_JWT_SECRET or THIRDPARTY_PSEUDONYM_SECRET" in result.stderr
    assert (tmp_path / ".env").read_text() == "SECURITY_JWT_SECRET=\n"


def wait_until_live(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_BOUND_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"serve exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/health/live", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"serve did not answer within {STARTUP_BOUND_S} s")


def login_through_serve(workdir: Path, url: str, password: str) -> str:
    """Start `beatstream serve` in `workdir`, sign in as the demo admin, stop it."""
    server = subprocess.Popen(
        [sys.executable, "-m", "beatstream", "serve"],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_until_live(url, server)
        login = httpx.post(
            f"{url}/v1/auth/token",
            data={"username": "admin@example.com", "password": password},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        return str(login.json()["access_token"])
    finally:
        server.terminate()
        server.wait(timeout=60)


async def test_every_command_takes_its_secrets_and_stores_from_the_env_file(
    workdir: Path, cli_db: str, mongo_client: AsyncMongoClient[MongoDocument]
) -> None:
    env = dotenv_values(workdir / ".env")
    keys = Pseudonyms(str(env["THIRDPARTY_PSEUDONYM_SECRET"]).encode())
    db = mongo_client[cli_db]

    # demo: into the database the file names, listeners keyed with the file's secret.
    demo = run(workdir, "demo")
    assert demo.returncode == 0, demo.stderr
    admin = re.search(r"admin\s+admin@example\.com\s+password (\S+)", demo.stdout)
    assert admin is not None, demo.stdout
    consenting = await db.listeners.find_one({"consent_to_share_data": True})
    assert consenting is not None
    assert consenting["listener_key"] == keys.listener_key(consenting["_id"])

    # seed: the same secret for the listeners it adds.
    seeded = run(
        workdir, "seed", "--artists", "1", "--songs", "2", "--listeners", "3", "--plays", "0"
    )
    assert seeded.returncode == 0, seeded.stderr
    added = await db.listeners.find({"email": {"$regex": r"\.42\.\d+@example\.com$"}}).to_list()
    assert len(added) == 3
    assert all(doc["listener_key"] == keys.listener_key(doc["_id"]) for doc in added)

    # keys, accounts, sync: the database and index prefix the file names.
    listed = run(workdir, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    assert "demo partner" in listed.stdout + listed.stderr
    granted = run(workdir, "accounts", "grant", "--email", "editor@example.com", "--role", "admin")
    assert granted.returncode == 0, granted.stderr
    # (Exit 1: the two songs `seed` added are not indexed yet, which it reports.)
    checked = run(workdir, "sync", "--check")
    assert "songs mongodb: 802  elasticsearch: 800" in checked.stdout + checked.stderr

    # serve: its tokens are signed with the file's JWT secret.
    token = login_through_serve(workdir, f"http://127.0.0.1:{env['API_PORT']}", admin.group(1))
    claims = jwt.decode(token, str(env["SECURITY_JWT_SECRET"]), algorithms=["HS256"])
    assert claims["role"] == "admin"
