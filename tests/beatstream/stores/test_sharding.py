"""The sharded-MongoDB plan stays true to the models, the init script and the docs.

Pure checks (no store): the plan in `beatstream.stores.sharding` is the one source, so
a new collection, a new unique index on a sharded collection, a hand edit of the
generated mongosh script or a shard key changed in one place only fails here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from beanie import Document, View

from beatstream.documents import DOCUMENT_MODELS
from beatstream.stores import sharding
from pipelines import checkpoints, dead_letters

ROOT = Path(__file__).resolve().parents[3]
INIT_SCRIPT = ROOT / "deploy" / "mongo" / "init-sharding.js"
SCALING_DOC = ROOT / "docs" / "scaling.md"


def _collection(model: type[Document] | type[View]) -> str:
    return str(model.Settings.name)  # type: ignore[union-attr]


def model_collections() -> set[str]:
    return {_collection(m) for m in DOCUMENT_MODELS} | {
        checkpoints.COLLECTION,
        dead_letters.COLLECTION,
    }


def test_every_collection_is_planned_exactly_once() -> None:
    names = [c.name for c in sharding.SHARDED] + [c.name for c in sharding.UNSHARDED]
    assert len(names) == len(set(names))
    assert sharding.planned_collections() == model_collections()


def _fields(model: type[Document] | type[View]) -> set[str]:
    return {"_id", *model.model_fields}


@pytest.mark.parametrize("planned", sharding.SHARDED, ids=lambda c: c.name)
def test_shard_key_fields_exist_on_the_model(planned: sharding.ShardedCollection) -> None:
    (model,) = [m for m in DOCUMENT_MODELS if _collection(m) == planned.name]
    assert {field for field, _ in planned.key} <= _fields(model)


@pytest.mark.parametrize("planned", sharding.SHARDED, ids=lambda c: c.name)
def test_shard_key_is_not_monotonic_at_its_front(planned: sharding.ShardedCollection) -> None:
    """A raw ObjectId or timestamp first sends every insert to the last chunk."""
    first_field, first_kind = planned.key[0]
    assert first_kind == sharding.HASHED, f"{planned.name}: {first_field} must be hashed"


def test_no_unique_index_on_a_sharded_collection_lacks_the_shard_key_prefix() -> None:
    """MongoDB enforces uniqueness per shard only; it refuses such an index (and a
    hashed key can never back one), so the plan must keep these collections unsharded."""
    sharded = {c.name for c in sharding.SHARDED}
    offending = []
    for model in DOCUMENT_MODELS:
        if _collection(model) not in sharded:
            continue
        for index in getattr(model.Settings, "indexes", []):
            if index.document.get("unique"):
                offending.append((_collection(model), index.document["name"]))
    assert offending == []


def test_unique_indexes_exist_where_the_plan_says_they_keep_a_collection_whole() -> None:
    """`listeners` and `api_keys` are unsharded *because* of a unique index; if the
    index goes, the reason in the plan (and docs/scaling.md) is stale."""
    unique = {
        (_collection(m), i.document["name"])
        for m in DOCUMENT_MODELS
        for i in getattr(m.Settings, "indexes", [])
        if i.document.get("unique")
    }
    assert unique == {("listeners", "email_unique"), ("api_keys", "key_id_unique")}
    reasons = {c.name: c.why for c in sharding.UNSHARDED}
    for collection, index in unique:
        assert index in reasons[collection]


def test_the_committed_init_script_is_the_generated_one() -> None:
    assert INIT_SCRIPT.read_text() == sharding.mongosh_script("beatstream"), (
        "regenerate: uv run python -m beatstream.stores.sharding > deploy/mongo/init-sharding.js"
    )


def test_the_init_script_shards_each_planned_collection_on_its_key() -> None:
    script = sharding.mongosh_script("beatstream")
    for planned in sharding.SHARDED:
        assert f'"{planned.name}": {sharding.js_literal(planned.key_document)},' in script, (
            planned.name
        )
    assert "sh.shardCollection(ns, key)" in script


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed: no JS syntax check")
@pytest.mark.parametrize("script", ["init-sharding.js", "add-shards.js"])
def test_the_mongosh_scripts_are_valid_javascript(script: str) -> None:
    subprocess.run(["node", "--check", str(INIT_SCRIPT.parent / script)], check=True)


def _documented_shard_keys() -> dict[str, str]:
    """`| play_events | {listener_id: "hashed", played_at: 1} | ...` rows of the key table."""
    rows = re.findall(r"^\| `(\w+)` \| `(\{[^`]*\}|unsharded)` \|", SCALING_DOC.read_text(), re.M)
    return dict(rows)


def test_the_docs_table_matches_the_plan() -> None:
    documented = _documented_shard_keys()
    expected = {c.name: sharding.js_literal(c.key_document) for c in sharding.SHARDED}
    expected |= {c.name: "unsharded" for c in sharding.UNSHARDED}
    assert documented == expected


# A stand-in for mongosh's globals: records what the script asks of `mongos`.
FAKE_MONGOSH = """
const calls = [];
const existing = JSON.parse(process.env.EXISTING || "{}");
const db = {
  adminCommand: (cmd) => { calls.push(["adminCommand", cmd]); return {ok: 1}; },
  getSiblingDB: (name) => ({
    collections: {
      findOne: (q) => (name === "config" && existing[q._id]) ? {key: existing[q._id]} : null,
    },
    getCollection: (coll) => ({createIndex: (key) => calls.push(["createIndex", name, coll, key])}),
  }),
};
const sh = {shardCollection: (ns, key) => calls.push(["shardCollection", ns, key])};
const print = () => {};
try {
  require("vm").runInNewContext(require("fs").readFileSync(process.argv[2], "utf8"),
    {db, sh, print, JSON, Object, Error});
  console.log(JSON.stringify({calls}));
} catch (e) {
  console.log(JSON.stringify({calls, error: String(e.message)}));
}
"""


def _run_init_script(tmp_path: Path, existing: dict[str, object]) -> dict[str, object]:
    harness = tmp_path / "harness.js"
    harness.write_text(FAKE_MONGOSH)
    done = subprocess.run(
        ["node", str(harness), str(INIT_SCRIPT)],
        capture_output=True,
        text=True,
        check=True,
        env={"EXISTING": json.dumps(existing), "PATH": os.environ["PATH"]},
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.skipif(
    shutil.which("node") is None, reason="node not installed: cannot run the script"
)
def test_the_init_script_creates_each_key_index_then_shards_on_it(tmp_path: Path) -> None:
    result = _run_init_script(tmp_path, {})
    expected: list[object] = [["adminCommand", {"enableSharding": "beatstream"}]]
    for planned in sharding.SHARDED:
        key = planned.key_document
        expected.append(["createIndex", "beatstream", planned.name, key])
        expected.append(["shardCollection", f"beatstream.{planned.name}", key])
    assert result == {"calls": expected}


@pytest.mark.skipif(
    shutil.which("node") is None, reason="node not installed: cannot run the script"
)
def test_the_init_script_skips_done_collections_and_refuses_a_different_key(
    tmp_path: Path,
) -> None:
    done = {f"beatstream.{c.name}": c.key_document for c in sharding.SHARDED}
    assert _run_init_script(tmp_path, done) == {
        "calls": [["adminCommand", {"enableSharding": "beatstream"}]]
    }

    first = sharding.SHARDED[0]
    other = _run_init_script(tmp_path, {f"beatstream.{first.name}": {"_id": 1}})
    assert other["error"] == f'beatstream.{first.name} is sharded on {{"_id":1}}'
    assert ["shardCollection", f"beatstream.{first.name}", first.key_document] not in other["calls"]  # type: ignore[operator]
