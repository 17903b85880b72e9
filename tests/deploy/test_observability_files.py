"""The observability profile's files: valid, wired to each other, and every metric they
query is one the API or the sync really exports (a renamed metric would otherwise
leave an empty panel or an alert that can never fire)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import beatstream.metrics.families
import pipelines.metrics  # noqa: F401 - registers the sync's metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "beatstream.json"
RULES = DEPLOY / "prometheus" / "rules.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
NAME = re.compile(r"\bbeatstream_[a-z0-9_]+")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def exported_names() -> set[str]:
    """Every sample name the registry can produce (labelled metrics with no child yet
    have no samples, so names are derived from each family's type)."""
    assert beatstream.metrics.families.HTTP_REQUESTS  # imported for its registrations
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def rule_exprs() -> list[str]:
    rules = yaml.safe_load(RULES.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def referenced(exprs: list[str]) -> set[str]:
    return {name for expr in exprs for name in NAME.findall(expr)}


@pytest.mark.parametrize("source", ["dashboard", "rules"])
def test_every_queried_metric_is_exported(source: str) -> None:
    exprs = dashboard_exprs() if source == "dashboard" else rule_exprs()
    names = referenced(exprs)
    assert names, f"the {source} queries no beatstream metric"
    assert names - exported_names() == set()


def test_the_dashboard_shows_every_area_the_issue_lists() -> None:
    names = referenced(dashboard_exprs())
    for needed in (
        "beatstream_http_requests_total",
        "beatstream_http_request_duration_seconds_bucket",
        "beatstream_http_requests_in_flight",
        "beatstream_cache_requests_total",
        "beatstream_cache_stampede_waits_total",
        "beatstream_store_call_duration_seconds_bucket",
        "beatstream_store_call_errors_total",
        "beatstream_ratelimit_rejections_total",
        "beatstream_partner_pulls_total",
        "beatstream_partner_rows_exported_total",
        "beatstream_sync_lag_seconds",
        "beatstream_sync_applied_total",
        "beatstream_sync_dead_letters_total",
        "beatstream_sync_retries_total",
        "beatstream_sync_checkpoint_age_seconds",
        "beatstream_sync_mode",
    ):
        assert needed in names, needed


def test_alerts_cover_sync_lag_5xx_and_readiness() -> None:
    alerts = {
        rule["alert"]: rule
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    }
    assert "beatstream_sync_lag_seconds" in alerts["BeatstreamSyncLagHigh"]["expr"]
    assert 'status_class="5xx"' in alerts["BeatstreamHigh5xxRate"]["expr"]
    assert "beatstream_store_up" in alerts["BeatstreamStoreNotReady"]["expr"]
    assert all("for" in rule and "summary" in rule["annotations"] for rule in alerts.values())


def test_compose_mounts_the_files_prometheus_and_grafana_read() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["observability"]
        for volume in services[name]["volumes"]:
            host = volume.split(":")[0]
            if host.startswith("./"):
                assert (ROOT / host).exists(), volume
    config = yaml.safe_load(PROMETHEUS.read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules.yml"]
    jobs = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert jobs == {"beatstream-api": ["api:8000"], "beatstream-sync": ["sync:9100"]}
    assert "9100" in services["sync"]["command"]
