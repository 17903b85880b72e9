"""`stack up --cluster`'s layout, without starting anything: ports, folders, pid files
and the URLs it prints never collide with the single-node stack's."""

from __future__ import annotations

from pathlib import Path

from beatstream.settings import ElasticsearchSettings, RedisSettings
from devstack.cluster import ClusterStack
from devstack.config import StackConfig
from devstack.manager import Stack


def test_cluster_nodes_have_their_own_ports_folders_and_pid_files(tmp_path: Path) -> None:
    config = StackConfig(home=tmp_path)
    cluster, single = ClusterStack(config), Stack(config)
    nodes, servers = cluster.nodes, single.servers

    ports = [n.port for n in nodes] + [n.transport_port for n in cluster.es_nodes]
    assert len(set(ports)) == len(ports) == 12
    assert not set(ports) & {s.port for s in servers}
    assert len({n.data_dir for n in nodes} | {s.data_dir for s in servers}) == 12
    pid_files = {cluster.process(n).pid_file for n in nodes}
    assert not pid_files & {single.process(s).pid_file for s in servers}
    assert len(pid_files) == 9


def test_the_printed_urls_are_valid_settings_naming_every_node(tmp_path: Path) -> None:
    env = ClusterStack(StackConfig(home=tmp_path)).environment()

    es = ElasticsearchSettings(url=env["ELASTICSEARCH_URL"])
    redis = RedisSettings(url=env["REDIS_URL"], cluster=env["REDIS_CLUSTER"] == "true")
    assert es.hosts == [f"http://127.0.0.1:{port}" for port in (9201, 9202, 9203)]
    assert redis.cluster


def test_elasticsearch_nodes_discover_each_other_on_loopback(tmp_path: Path) -> None:
    node = ClusterStack(StackConfig(home=tmp_path)).es_nodes[1]
    yml = node.node_yml()

    assert "transport.port: 9302" in yml
    assert 'discovery.seed_hosts: ["127.0.0.1:9301", "127.0.0.1:9302", "127.0.0.1:9303"]' in yml
    assert "discovery.type" not in yml  # single-node discovery would form three clusters
