"""deploy/prometheus/ through Prometheus's own checker: the rules and the configuration
load, and the alert unit tests (rules.test.yml) pass, so each alert fires on what it is
for, after its `for:`, with the text an on-call reads, and not on a healthy system."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tools.promtool import PromtoolMissing, promtool

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool_path() -> Path:
    try:
        return promtool()
    except PromtoolMissing as missing:
        pytest.skip(f"needs promtool: {missing}")


def run(promtool_path: Path, *args: str, cwd: Path = PROMETHEUS) -> str:
    done = subprocess.run(
        [str(promtool_path), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_alert_rules_load(promtool_path: Path) -> None:
    assert "SUCCESS: 5 rules found" in run(promtool_path, "check", "rules", "rules.yml")


def test_the_configuration_loads_with_its_rule_file(promtool_path: Path, tmp_path: Path) -> None:
    # Compose mounts rules.yml at /etc/prometheus/rules.yml; check the same pair here.
    config = (PROMETHEUS / "prometheus.yml").read_text()
    assert "/etc/prometheus/rules.yml" in config
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/rules.yml", str(tmp_path / "rules.yml"))
    )
    shutil.copy(PROMETHEUS / "rules.yml", tmp_path / "rules.yml")

    out = run(promtool_path, "check", "config", "prometheus.yml", cwd=tmp_path)
    assert "SUCCESS: 5 rules found" in out


def test_every_alert_fires_when_it_should_and_only_then(promtool_path: Path) -> None:
    assert "SUCCESS" in run(promtool_path, "test", "rules", "rules.test.yml")


def test_the_unit_tests_cover_every_alert() -> None:
    rules = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = yaml.safe_load((PROMETHEUS / "rules.test.yml").read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert firing == alerts
