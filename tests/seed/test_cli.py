"""`beatstream seed` as an operator runs it: a real process, its exit code and output."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch
from pymongo import AsyncMongoClient

from beatstream.search.indices import SONGS, plays_alias
from beatstream.stores.clients import MongoDocument
from tests.fixtures.ports import unused_port
from tests.fixtures.resolve import ResolvedStore

SMALL_ARGS = ("--artists", "4", "--songs", "30", "--listeners", "12", "--plays", "120")


def run_seed(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beatstream", "seed", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
        check=False,
    )


@pytest.fixture
async def cli_db(mongo_client: AsyncMongoClient[MongoDocument]) -> AsyncIterator[str]:
    """A database name of its own for the subprocess, dropped afterwards."""
    name = f"bs_test_cli_{uuid.uuid4().hex[:8]}"
    yield name
    await mongo_client.drop_database(name)


@pytest.fixture
def cli_env(
    resolved_stores: dict[str, ResolvedStore], cli_db: str, es_prefix: str, redis_prefix: str
) -> dict[str, str]:
    """This test's stores and prefixes: a seed also bumps cache namespaces (and a reset
    rebuilds indices), which must not touch anyone else's."""
    return {
        "MONGODB_URL": resolved_stores["mongodb"].url,
        "MONGODB_DB": cli_db,
        "ELASTICSEARCH_URL": resolved_stores["elasticsearch"].url,
        "ELASTICSEARCH_INDEX_PREFIX": es_prefix,
        "REDIS_URL": resolved_stores["redis"].url,
        "REDIS_KEY_PREFIX": redis_prefix,
    }


async def test_seed_loads_and_exits_0(
    cli_env: dict[str, str], cli_db: str, mongo_client: AsyncMongoClient[MongoDocument]
) -> None:
    result = run_seed(*SMALL_ARGS, "--seed", "7", "--batch-size", "50", env=cli_env)

    assert result.returncode == 0, result.stderr
    assert "120 written (120 new)" in result.stdout
    db = mongo_client[cli_db]
    assert await db.play_events.count_documents({}) == 120
    assert await db.listeners.count_documents({}) == 12

    again = run_seed(*SMALL_ARGS, "--seed", "7", env=cli_env)
    assert again.returncode == 0, again.stderr
    assert "120 written (0 new)" in again.stdout
    assert await db.play_events.count_documents({}) == 120


async def test_seed_reset_rebuilds_the_search_indices_and_says_so(
    cli_env: dict[str, str], es_client: AsyncElasticsearch, es_prefix: str
) -> None:
    """Reseeded smaller after a bigger seed: the indices hold exactly the new data."""
    bigger = run_seed(*SMALL_ARGS, "--seed", "7", "--reset", env=cli_env)
    assert bigger.returncode == 0, bigger.stderr
    args = ("--artists", "2", "--songs", "10", "--listeners", "4", "--plays", "25")

    result = run_seed(*args, "--seed", "8", "--reset", env=cli_env)

    assert result.returncode == 0, result.stderr
    assert f"reset: rebuilt {es_prefix}-songs-v1-" in result.stdout
    assert "(10 of 10 indexed)" in result.stdout
    assert f"reset: rebuilt {es_prefix}-plays-v1-g" in result.stdout
    assert "(25 of 25 indexed)" in result.stdout
    assert "cache invalidated: songs, plays, thirdparty" in result.stdout
    songs = await es_client.count(index=SONGS.alias(es_prefix))
    plays = await es_client.count(index=plays_alias(es_prefix))
    assert (songs["count"], plays["count"]) == (10, 25)


async def test_seed_exports_then_loads_files_and_exits_1_on_bad_lines(
    tmp_path: Path,
    cli_env: dict[str, str],
    cli_db: str,
    mongo_client: AsyncMongoClient[MongoDocument],
) -> None:
    exported = run_seed(*SMALL_ARGS, "--out", str(tmp_path), env={})
    assert exported.returncode == 0, exported.stderr
    assert "plays.ndjson" in exported.stdout
    plays = tmp_path / "plays.ndjson"
    lines = plays.read_text().splitlines()
    lines[2] = "{oops"
    lines[4] = lines[4].replace('"ms_played": ', '"ms_played": "x", "was": ')
    plays.write_text("\n".join(lines) + "\n")

    result = run_seed("--from", str(tmp_path), env=cli_env)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "plays.ndjson:3: bad JSON" in result.stderr
    assert "plays.ndjson:5: not a valid PlayEvent: ms_played" in result.stderr
    assert "2 failed" in result.stderr
    assert await mongo_client[cli_db].play_events.count_documents({}) == 118


def test_seed_exits_1_with_one_line_when_mongodb_is_unreachable() -> None:
    dead = unused_port()
    result = run_seed(
        "--plays",
        "5",
        env={
            "MONGODB_URL": f"mongodb://app:topsecret@127.0.0.1:{dead}/?directConnection=true",
            "MONGODB_SERVER_SELECTION_TIMEOUT_MS": "300",
        },
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "topsecret" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert f"mongodb unreachable at mongodb://app:***@127.0.0.1:{dead}/" in errors[0]


def test_seed_refuses_out_and_from_together(tmp_path: Path) -> None:
    result = run_seed("--out", str(tmp_path), "--from", str(tmp_path), env={})

    assert result.returncode == 2
    assert "not both" in result.stderr


def test_seed_refuses_plays_without_songs(tmp_path: Path) -> None:
    result = run_seed("--songs", "0", "--out", str(tmp_path), env={})

    assert result.returncode == 2
    assert "plays need at least one song" in result.stderr
