"""`beatstream stack up --cluster`: a 3-node Elasticsearch cluster and a Redis Cluster.

Beside the single-node stack, on their own ports, data and pid files, so the API and
the tests can be pointed at real clusters (docs/stack.md, "Clusters"):

- Elasticsearch: three processes of the stack's own distribution (same install, same
  shim plugin), discovery on loopback, small heaps;
- Redis Cluster: six Debian `redis-server` processes joined by `redis-cli --cluster
  create --cluster-replicas 1`: three primaries, each with one replica, and a short
  node timeout so a killed primary's replica takes over in about two seconds.

Every node is a `ManagedProcess` (pid file, marker): `down` and the failure tests stop
nodes by pid, never by name. A fresh `up` (no node running) wipes the nodes' data and
forms new clusters; an `up` with some nodes running restarts only the missing ones,
which rejoin with their data (that is how a failure test brings a killed node back).
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devstack.base import LaunchPlan, StackServer, http_ok, run_checked, tcp_exchange
from devstack.config import StackConfig
from devstack.process import ManagedProcess, PidRecord, StackError
from devstack.servers.elasticsearch import ElasticsearchServer
from devstack.servers.redis import RedisServer

Reporter = Callable[[str], None]

ES_NODES = 3
REDIS_NODES = 6  # three primaries, each with one replica
CLUSTER_NAME = "beatstream-cluster"


class ElasticsearchNode(ElasticsearchServer):
    """One node of the cluster: the single-node server's install, its own ports and dirs."""

    implementation = "integ-test-zip distribution + beatstream-shim plugin (cluster node)"

    def __init__(self, config: StackConfig, number: int) -> None:
        super().__init__(config)
        self.number = number
        self.name = f"cluster-es-{number}"

    @property
    def port(self) -> int:
        return self.config.cluster_elasticsearch_port + self.number - 1

    @property
    def transport_port(self) -> int:
        return self.config.cluster_elasticsearch_transport_port + self.number - 1

    @property
    def conf_dir(self) -> Path:
        return self.config.home / "config" / "cluster" / f"es-{self.number}"

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir("cluster") / f"es-{self.number}"

    @property
    def log_dir(self) -> Path:
        return self.config.log_dir / "cluster" / f"es-{self.number}"

    @property
    def heap(self) -> str:
        return self.config.cluster_elasticsearch_heap

    def node_yml(self) -> str:
        transport = self.config.cluster_elasticsearch_transport_port
        seeds = ", ".join(f'"{self.config.host}:{transport + i}"' for i in range(ES_NODES))
        masters = ", ".join(f'"{CLUSTER_NAME}-{i + 1}"' for i in range(ES_NODES))
        return (
            f"cluster.name: {CLUSTER_NAME}\n"
            f"node.name: {CLUSTER_NAME}-{self.number}\n"
            f"transport.port: {self.transport_port}\n"
            f"discovery.seed_hosts: [{seeds}]\n"
            # Read only when the cluster forms the first time (empty data folders).
            f"cluster.initial_master_nodes: [{masters}]\n"
        )

    def is_ready(self) -> bool:
        """Joined a cluster with an elected master (health answers 503 without one)."""
        return http_ok(f"{self.url}/_cluster/health?timeout=1s")


class RedisNode(RedisServer):
    implementation = "Debian's redis-server (cluster node)"

    def __init__(self, config: StackConfig, number: int) -> None:
        super().__init__(config)
        self.number = number
        self.name = f"cluster-redis-{number}"

    @property
    def port(self) -> int:
        return self.config.cluster_redis_port + self.number - 1

    @property
    def url(self) -> str:
        return f"redis://{self.config.host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir("cluster") / f"redis-{self.number}"

    def launch_plan(self) -> LaunchPlan:
        plan = super().launch_plan()
        argv = [
            *plan.argv,
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            str(self.config.cluster_redis_node_timeout_ms),
        ]
        return LaunchPlan(argv=argv, marker=plan.marker)

    def cluster_ok(self) -> bool:
        reply = tcp_exchange(self.config.host, self.port, b"CLUSTER INFO\r\n")
        return b"cluster_state:ok" in reply


@dataclass(frozen=True, slots=True)
class NodeState:
    name: str
    url: str
    pid: int | None
    ready: bool
    rss_bytes: int


def group_rss_bytes(record: PidRecord) -> int:
    """Resident memory of the process group we started (a launcher plus its JVM)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != record.pid:
                continue
            status = (entry / "status").read_text()
        except (OSError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


class ClusterStack:
    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.es_nodes = [ElasticsearchNode(self.config, i + 1) for i in range(ES_NODES)]
        self.redis_nodes = [RedisNode(self.config, i + 1) for i in range(REDIS_NODES)]

    @property
    def nodes(self) -> list[StackServer]:
        return [*self.es_nodes, *self.redis_nodes]

    def process(self, node: StackServer) -> ManagedProcess:
        return ManagedProcess(node.name, self.config.run_dir, self.config.log_dir)

    @property
    def elasticsearch_url(self) -> str:
        """Every node: the client round-robins and retries on the next when one is down."""
        return ",".join(node.url for node in self.es_nodes)

    @property
    def redis_url(self) -> str:
        """One seed: the cluster client discovers the others (and later failovers) itself."""
        return self.redis_nodes[0].url

    def environment(self) -> dict[str, str]:
        """The variables that point the API (and the test suite) at these clusters."""
        return {
            "ELASTICSEARCH_URL": self.elasticsearch_url,
            "REDIS_URL": self.redis_url,
            "REDIS_CLUSTER": "true",
        }

    def running(self, nodes: list[StackServer] | None = None) -> set[str]:
        return {n.name for n in nodes or self.nodes if self.process(n).record() is not None}

    def is_up(self) -> bool:
        return self.running() == {n.name for n in self.nodes} and self._healthy()

    def up(self, report: Reporter = print) -> float:
        """Start whatever node is not running; form the clusters when none was. Seconds taken."""
        started = time.perf_counter()
        ElasticsearchServer(self.config).install()
        RedisServer(self.config).install()
        for kind, nodes in (("elasticsearch", self.es_nodes), ("redis", self.redis_nodes)):
            group: list[StackServer] = list(nodes)
            if not self.running(group):
                report(f"cluster {kind}: fresh data for {len(group)} nodes")
                for node in group:
                    shutil.rmtree(node.data_dir, ignore_errors=True)
            for node in group:
                if self.process(node).record() is None:
                    report(f"cluster {kind}: starting {node.name} on port {node.port}")
                    self._start(node)
        self._wait(lambda: all(n.is_ready() for n in self.es_nodes), "Elasticsearch nodes")
        self._wait(lambda: all(n.is_ready() for n in self.redis_nodes), "Redis nodes")
        if not any(node.cluster_ok() for node in self.redis_nodes):
            self._create_redis_cluster(report)
        self._wait(self._healthy, "cluster health")
        seconds = time.perf_counter() - started
        report(f"cluster: ready ({seconds:.1f}s)")
        return seconds

    def _start(self, node: StackServer) -> None:
        plan = node.launch_plan()
        self.process(node).start(
            plan.argv,
            marker=plan.marker,
            host=self.config.host,
            port=node.port,
            # Nodes are waited for together: an Elasticsearch node alone elects no master.
            ready=lambda: True,
            timeout_s=self.config.start_timeout_s,
            env=plan.env,
            cwd=plan.cwd,
            preexec_user=plan.user,
        )

    def _create_redis_cluster(self, report: Reporter) -> None:
        report("cluster redis: redis-cli --cluster create (3 primaries, 1 replica each)")
        redis_cli = shutil.which("redis-cli") or "redis-cli"
        run_checked(
            [
                redis_cli,
                "--cluster",
                "create",
                *(f"{self.config.host}:{node.port}" for node in self.redis_nodes),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            "create the Redis Cluster",
            timeout_s=60,
        )

    def _healthy(self) -> bool:
        green = (
            f"{self.es_nodes[0].url}/_cluster/health"
            f"?wait_for_nodes={ES_NODES}&wait_for_status=green&timeout=1s"
        )
        es_ok = any(
            http_ok(green.replace(self.es_nodes[0].url, node.url), timeout_s=3)
            for node in self.es_nodes
        )
        return es_ok and all(node.cluster_ok() for node in self.redis_nodes)

    def _wait(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.config.start_timeout_s
        while not check():
            for node in self.nodes:
                if self.process(node).record() is None:
                    raise StackError(
                        f"{node.name} exited while the cluster started; last log lines:\n"
                        f"{self.process(node).log_tail()}"
                    )
            if time.monotonic() > deadline:
                raise StackError(
                    f"cluster: {what} not ready within {self.config.start_timeout_s:g}s"
                )
            time.sleep(0.25)

    def down(self, report: Reporter = print) -> list[str]:
        """Stop only the nodes this stack started (by pid file)."""
        stopped = []
        for node in reversed(self.nodes):
            if self.process(node).stop():
                report(f"{node.name}: stopped")
                stopped.append(node.name)
        return stopped

    def states(self) -> list[NodeState]:
        rows = []
        for node in self.nodes:
            record = self.process(node).record()
            rows.append(
                NodeState(
                    node.name,
                    node.url,
                    record.pid if record else None,
                    record is not None and node.is_ready(),
                    group_rss_bytes(record) if record else 0,
                )
            )
        return rows

    def es_health(self) -> str:
        """The cluster's health line as Elasticsearch prints it (`_cat/health`), or why not."""
        for node in self.es_nodes:
            try:
                url = f"{node.url}/_cat/health?h=status,node.total,shards,unassign"
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                    return str(response.read().decode().strip())
            except OSError:
                continue
        return "no node answers"
