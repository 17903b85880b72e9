"""NDJSON: export round-trips through Extended JSON; bad lines are named, good ones load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bson import ObjectId, json_util
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.stores.clients import MongoDocument
from seed import generate
from seed.generate import KINDS
from seed.load import load
from seed.ndjson import JSON_OPTIONS, export_ndjson, load_ndjson
from tests.seed.common import SMALL, snapshot


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_export_writes_one_extended_json_object_per_line(tmp_path: Path) -> None:
    report = await export_ndjson(tmp_path, SMALL, 42)

    assert report.lines == {
        "artists.ndjson": 6,
        "songs.ndjson": 40,
        "listeners.ndjson": 25,
        "plays.ndjson": 300,
    }
    assert names_in(tmp_path) == sorted(report.lines)
    first = (tmp_path / "listeners.ndjson").read_text().splitlines()[0]
    assert json.loads(first)["_id"] == {"$oid": str(generate.listener(42, 0)["_id"])}
    assert json_util.loads(first, json_options=JSON_OPTIONS) == generate.listener(42, 0)
    plays = (tmp_path / "plays.ndjson").read_text().splitlines()
    assert [json_util.loads(line, json_options=JSON_OPTIONS) for line in plays] == list(
        generate.plays(42, SMALL)
    )


async def test_export_then_load_equals_a_direct_load(
    tmp_path: Path, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    await load(mongo_db, SMALL, 42, derived=None)
    direct = await snapshot(mongo_db)
    await export_ndjson(tmp_path, SMALL, 42)

    report = await load_ndjson(mongo_db, tmp_path, derived=None, reset=True, batch_size=64)

    assert report.ok
    assert report.inserted == {name: len(rows) for name, rows in direct.items()}
    assert await snapshot(mongo_db) == direct


async def test_loading_a_file_twice_duplicates_nothing(
    tmp_path: Path, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    await export_ndjson(tmp_path, SMALL, 5)
    await load_ndjson(mongo_db, tmp_path, derived=None)
    first = await snapshot(mongo_db)

    again = await load_ndjson(mongo_db, tmp_path, derived=None)

    assert again.ok
    assert sum(again.inserted.values()) == 0
    assert await snapshot(mongo_db) == first


def _rewrite(path: Path, replace: dict[int, str]) -> list[str]:
    """Replace 1-based lines of `path`; returns the new lines."""
    lines = path.read_text().splitlines()
    for number, text in replace.items():
        lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")
    return lines


async def test_malformed_lines_are_reported_and_the_rest_loads(
    tmp_path: Path, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    await export_ndjson(tmp_path, SMALL, 42)
    plays = tmp_path / "plays.ndjson"
    wrong_type = json.loads(plays.read_text().splitlines()[4])
    wrong_type["ms_played"] = "a lot"
    _rewrite(plays, {3: '{"_id": {"$oid": "66', 5: json.dumps(wrong_type)})

    report = await load_ndjson(mongo_db, tmp_path, derived=None)

    assert report.failed == 2
    assert [(f.source, f.line) for f in report.failures] == [
        ("plays.ndjson", 3),
        ("plays.ndjson", 5),
    ]
    assert report.failures[0].reason.startswith("bad JSON")
    assert "PlayEvent" in report.failures[1].reason
    assert "ms_played" in report.failures[1].reason
    assert str(report.failures[1]).startswith("plays.ndjson:5: ")
    assert report.written["play_events"] == SMALL.plays - 2
    assert await mongo_db.play_events.count_documents({}) == SMALL.plays - 2
    assert await mongo_db.songs.count_documents({}) == SMALL.songs
    bad_ids = [generate.play(42, n, SMALL)["_id"] for n in (2, 4)]
    assert await mongo_db.play_events.count_documents({"_id": {"$in": bad_ids}}) == 0


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[1, 2]", "not a JSON object"),
        ('{"name": "No Id", "country": "IT", "genres": []}', "no _id"),
        ('{"_id": {"$oid": "nothex"}, "name": "x", "country": "IT"}', "bad JSON"),
        (
            '{"_id": {"$oid": "66aa00000000000000000001"}, "country": "IT"}',
            "not a valid Artist: name: Field required",
        ),
    ],
)
async def test_each_kind_of_bad_line_is_named(
    tmp_path: Path, mongo_db: AsyncDatabase[MongoDocument], line: str, reason: str
) -> None:
    good = json_util.dumps(generate.artist(1, 0), json_options=JSON_OPTIONS)
    (tmp_path / "artists.ndjson").write_text(f"{good}\n\n{line}\n")

    report = await load_ndjson(mongo_db, tmp_path, derived=None)

    assert [(f.source, f.line) for f in report.failures] == [("artists.ndjson", 3)]
    assert reason in report.failures[0].reason
    assert report.written == {"artists": 1}  # the blank line 2 is no failure


async def test_values_are_stored_as_the_model_types_them(
    tmp_path: Path, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    """A hand-written file with a plain-string date and money: stored as BSON date and
    Decimal128, as the API would store them, not as strings."""
    listener = json.loads(json_util.dumps(generate.listener(3, 0), json_options=JSON_OPTIONS))
    listener["created_at"] = "2020-01-02T03:04:05Z"
    listener["actions"] = [{"action": "basic subscription", "date": "2020-01-02T03:04:05Z"}]
    listener["actions"][0]["amount"] = "4.99"
    (tmp_path / "listeners.ndjson").write_text(json.dumps(listener) + "\n")

    report = await load_ndjson(mongo_db, tmp_path, derived=None)

    assert report.ok
    stored = await mongo_db.listeners.find_one({"_id": ObjectId(listener["_id"]["$oid"])})
    assert stored is not None
    assert stored["created_at"].year == 2020
    assert str(stored["actions"][0]["amount"]) == "4.99"
    assert type(stored["actions"][0]["amount"]).__name__ == "Decimal128"


async def test_a_folder_without_files_is_an_error(
    tmp_path: Path, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    with pytest.raises(FileNotFoundError, match=r"artists\.ndjson"):
        await load_ndjson(mongo_db, tmp_path, derived=None)


async def test_files_are_loaded_in_dependency_order(
    tmp_path: Path, mongo_db: AsyncDatabase[MongoDocument]
) -> None:
    await export_ndjson(tmp_path, SMALL, 42)
    seen: list[str] = []

    await load_ndjson(mongo_db, tmp_path, derived=None, progress=lambda c, _d, _t: seen.append(c))

    assert list(dict.fromkeys(seen)) == ["artists", "songs", "listeners", "play_events"]
    assert len(KINDS) == 4
