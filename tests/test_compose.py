"""docker-compose.yml's structure, checked without a Docker engine.

`docker compose config` is the real validator, but this machine has no Docker CLI. The
first test runs the library that command is built on (compose-go: the Compose schema,
interpolation, profiles) through `tools/composecheck`, built with Go when Go is
installed. The others parse the file and check what would break a `docker compose up`: profiles,
healthchecks, `depends_on` conditions, that the cluster's pieces name each other
consistently (replica sets, shards, Elasticsearch discovery, Redis Cluster members),
that the API's cluster environment is valid `Settings`, and that the sharding init job
runs the script generated from `beatstream.stores.sharding`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from beatstream.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
CLUSTER = "cluster"
ONE_SHOT = {"mongo-cluster-init", "redis-cluster-create"}

Service = dict[str, Any]


@pytest.fixture(scope="session")
def composecheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("go not installed: cannot build tools/composecheck (compose-go)")
    binary = tmp_path_factory.mktemp("composecheck") / "composecheck"
    subprocess.run(
        [go, "build", "-o", str(binary), "."],
        cwd=ROOT / "tools" / "composecheck",
        check=True,
        capture_output=True,
        timeout=900,
    )
    return binary


@pytest.mark.parametrize("profiles", [[], ["sync"], [CLUSTER], ["sync", CLUSTER]])
def test_compose_go_loads_the_file_with_each_profile(
    composecheck: Path, profiles: list[str]
) -> None:
    env = {
        **os.environ,
        "SECURITY_JWT_SECRET": "j" * 32,
        "THIRDPARTY_PSEUDONYM_SECRET": "p" * 32,
    }
    done = subprocess.run(
        [str(composecheck), str(COMPOSE), *profiles],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = yaml.safe_load(done.stdout)
    for profile in profiles:
        assert any(profile in s.get("profiles", []) for s in loaded["services"].values())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Service]:
    found: dict[str, Service] = compose["services"]
    return found


def cluster_services(services: dict[str, Service]) -> dict[str, Service]:
    return {n: s for n, s in services.items() if CLUSTER in s.get("profiles", [])}


def command_text(service: Service) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_the_single_node_services_keep_their_profiles(services: dict[str, Service]) -> None:
    """`docker compose up` still starts exactly the single-node stack and the API."""
    default = {n for n, s in services.items() if not s.get("profiles")}
    assert default == {"mongo", "elasticsearch", "redis", "api"}
    assert services["sync"]["profiles"] == ["sync"]


def test_the_cluster_profile_has_every_piece(services: dict[str, Service]) -> None:
    names = set(cluster_services(services))
    assert {"mongo-cfg", "mongo-shard1", "mongo-shard2", "mongos", "mongo-cluster-init"} <= names
    assert {"es1", "es2", "es3"} <= names
    assert {f"redis-c{n}" for n in range(1, 7)} | {"redis-cluster-create"} <= names
    assert "api-cluster" in names


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Service]) -> None:
    missing = [n for n, s in services.items() if n not in ONE_SHOT and "healthcheck" not in s]
    assert missing == []
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no"


def test_depends_on_names_a_condition_that_fits_the_dependency(
    services: dict[str, Service],
) -> None:
    for name, service in services.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            expected = "service_completed_successfully" if target in ONE_SHOT else "service_healthy"
            assert spec == {"condition": expected}, f"{name} -> {target}"
            # A dependency outside the dependant's profiles would never be started.
            assert set(services[target].get("profiles", [])) <= set(service.get("profiles", [])), (
                f"{name} -> {target}"
            )


def test_host_ports_do_not_collide(services: dict[str, Service]) -> None:
    published = [p.rsplit(":", 1)[0] for s in services.values() for p in s.get("ports", [])]
    assert len(published) == len(set(published)), published


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    used = {
        v.split(":", 1)[0]
        for s in compose["services"].values()
        for v in s.get("volumes", [])
        if not v.startswith(".")
    }
    assert used <= set(compose["volumes"])


def _replset(service: Service) -> tuple[str, str]:
    words = command_text(service).split()
    return words[words.index("--replSet") + 1], words[words.index("--port") + 1]


def test_the_sharded_mongodb_topology_is_consistent(services: dict[str, Service]) -> None:
    cfg_set, cfg_port = _replset(services["mongo-cfg"])
    assert "--configsvr" in command_text(services["mongo-cfg"])
    assert f"--configdb {cfg_set}/mongo-cfg:{cfg_port}" in command_text(services["mongos"])

    add_shards = (ROOT / "deploy" / "mongo" / "add-shards.js").read_text()
    for shard in ("mongo-shard1", "mongo-shard2"):
        assert "--shardsvr" in command_text(services[shard])
        replset, port = _replset(services[shard])
        assert f"'{replset}/{shard}:{port}'" in add_shards
        # The healthcheck initiates the very replica set the server runs.
        health = " ".join(services[shard]["healthcheck"]["test"])
        assert f"_id: '{replset}'" in health
        assert f"host: '{shard}:{port}'" in health


def test_the_init_job_runs_the_generated_sharding_script(services: dict[str, Service]) -> None:
    init = services["mongo-cluster-init"]
    assert "./deploy/mongo:/deploy/mongo:ro" in init["volumes"]
    command = command_text(init)
    assert "mongodb://mongos:27017" in command
    assert command.index("add-shards.js") < command.index("init-sharding.js")
    for script in re.findall(r"/deploy/mongo/([\w-]+\.js)", command):
        assert (ROOT / "deploy" / "mongo" / script).is_file(), script


def test_the_elasticsearch_nodes_discover_each_other(services: dict[str, Service]) -> None:
    nodes = ["es1", "es2", "es3"]
    for node in nodes:
        env = services[node]["environment"]
        assert env["node.name"] == node
        assert env["cluster.name"] == "beatstream-cluster"
        assert env["discovery.seed_hosts"].split(",") == nodes
        assert env["cluster.initial_master_nodes"].split(",") == nodes
        assert "wait_for_nodes=3" in " ".join(services[node]["healthcheck"]["test"])


def test_the_redis_cluster_joins_all_six_nodes(services: dict[str, Service]) -> None:
    nodes = [f"redis-c{n}" for n in range(1, 7)]
    for node in nodes:
        assert "--cluster-enabled yes" in command_text(services[node])
        assert services[node]["hostname"] == node
    create = command_text(services["redis-cluster-create"])
    assert re.findall(r"(redis-c\d):6379", create) == nodes
    assert "--cluster-replicas 1" in create


def test_the_cluster_api_environment_is_valid_settings(
    services: dict[str, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = services["api-cluster"]["environment"]
    for key, value in env.items():
        if "${" not in str(value):  # secrets come from .env at `up` time
            monkeypatch.setenv(key, str(value))
    settings = Settings()
    assert settings.mongodb.url == "mongodb://mongos:27017/"
    # The database the init job shards (deploy/mongo/init-sharding.js).
    init_script = (ROOT / "deploy" / "mongo" / "init-sharding.js").read_text()
    assert f'const dbName = "{settings.mongodb.db}";' in init_script
    assert settings.elasticsearch.hosts == [f"http://es{n}:9200" for n in (1, 2, 3)]
    assert settings.elasticsearch.replicas == 1
    assert settings.redis.cluster is True
    assert settings.redis.url.startswith("redis://redis-c1:")
