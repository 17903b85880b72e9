"""Elasticsearch from Maven Central's `integ-test-zip` distribution, on the machine's JDK.

That zip is the server core plus transport, security and APM modules; it ships no
JDK, so we pick an installed one new enough for the version. It also lacks the
modules behind `GET /` (rest-root) and the common analyzers (analysis-common), so
install compiles a small plugin of ours, `es_shim/ShimPlugin.java`, against the
server's own jars: it answers `GET /` like a full distribution (clients read the
version there) and provides edge_ngram, asciifolding, synonym and the whitespace and
keyword tokenizers, built from the Lucene analysis classes the zip already ships.

Elasticsearch refuses to run as root: as root we run it as an unprivileged
`beatstream` user, which is why its home, configuration, data and logs live in the
stack folder, not under /root.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

from devstack.base import (
    LaunchPlan,
    StackServer,
    chown_tree,
    http_ok,
    maven,
    run_checked,
    service_user,
)
from devstack.java import find_java_home
from devstack.process import StackError

MAVEN_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MAVEN_PATH = "org/elasticsearch/distribution/integ-test-zip/elasticsearch/{version}/{file}"
MIN_JAVA = {7: 11, 8: 17, 9: 21}
SHIM_NAME = "beatstream-shim"
SHIM_SOURCE = Path(__file__).with_name("es_shim") / "ShimPlugin.java"


def unzip_with_modes(archive: Path, target: Path) -> None:
    """`zipfile` drops Unix permissions; restore them so `bin/elasticsearch` stays executable."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            extracted = Path(zf.extract(info, target))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                extracted.chmod(mode | stat.S_IRUSR)


class ElasticsearchServer(StackServer):
    name = "elasticsearch"
    implementation = "integ-test-zip distribution + beatstream-shim plugin"

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def version(self) -> str:
        return self.config.elasticsearch_version

    @property
    def es_home(self) -> Path:
        return self.config.home / "dist" / f"elasticsearch-{self.version}"

    @property
    def conf_dir(self) -> Path:
        return self.config.home / "config" / "elasticsearch"

    @property
    def min_java(self) -> int:
        return MIN_JAVA.get(int(self.version.split(".", 1)[0]), 21)

    def java_home(self) -> Path:
        return find_java_home(self.min_java, self.config.java_home)

    def archive(self) -> Path:
        return self.config.maven_repo / MAVEN_PATH.format(
            version=self.version, file=f"elasticsearch-{self.version}.zip"
        )

    def install(self) -> None:
        if not (self.es_home / "bin" / "elasticsearch").exists():
            self._install_distribution()
        if not (self.es_home / "plugins" / SHIM_NAME / f"{SHIM_NAME}.jar").exists():
            self._install_shim()

    def _install_distribution(self) -> None:
        if not self.archive().exists():
            maven(
                self.config,
                "dependency:get",
                "-Dtransitive=false",
                f"-Dartifact={MAVEN_ARTIFACT.format(version=self.version)}",
                what=f"download Elasticsearch {self.version} with Maven",
            )
        staging = self.es_home.with_name(self.es_home.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        unzip_with_modes(self.archive(), staging)
        inner = staging / f"elasticsearch-{self.version}"
        inner.rename(self.es_home) if inner.is_dir() else staging.rename(self.es_home)
        shutil.rmtree(staging, ignore_errors=True)

    def _install_shim(self) -> None:
        java_home = self.java_home()
        build = self.config.home / "build" / SHIM_NAME
        shutil.rmtree(build, ignore_errors=True)
        classes = build / "classes"
        classes.mkdir(parents=True)
        run_checked(
            [
                str(java_home / "bin" / "javac"),
                "--release",
                str(self.min_java),
                "-nowarn",
                "-cp",
                f"{self.es_home / 'lib'}/*",
                "-d",
                str(classes),
                str(SHIM_SOURCE),
            ],
            "compile the Elasticsearch shim plugin",
        )
        target = self.es_home / "plugins" / SHIM_NAME
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        run_checked(
            [
                str(java_home / "bin" / "jar"),
                "--create",
                "--file",
                str(staging / f"{SHIM_NAME}.jar"),
                "-C",
                str(classes),
                ".",
            ],
            "package the Elasticsearch shim plugin",
        )
        (staging / "plugin-descriptor.properties").write_text(
            "description=Beatstream stack shim: GET / and common analyzers missing from the "
            "integ-test zip\n"
            "version=1.0.0\n"
            f"name={SHIM_NAME}\n"
            "classname=beatstream.esshim.ShimPlugin\n"
            f"java.version={self.min_java}\n"
            f"elasticsearch.version={self.version}\n"
        )
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        shutil.rmtree(build, ignore_errors=True)

    def _write_config(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        for name in ("jvm.options", "log4j2.properties"):
            shutil.copy2(self.es_home / "config" / name, self.conf_dir / name)
        (self.conf_dir / "jvm.options.d").mkdir(exist_ok=True)
        (self.conf_dir / "elasticsearch.yml").write_text(
            "# Written by `beatstream stack up`; edits are overwritten on the next start.\n"
            + self.node_yml()
            + f"network.host: {self.config.host}\n"
            f"http.port: {self.port}\n"
            f"path.data: {self.data_dir}\n"
            f"path.logs: {self.log_dir}\n"
            "xpack.security.enabled: false\n"
            # A nearly full developer disk must not turn every index read-only.
            "cluster.routing.allocation.disk.threshold_enabled: false\n"
        )

    def node_yml(self) -> str:
        """The node's identity and discovery; a cluster node (devstack.cluster) overrides it."""
        return (
            "cluster.name: beatstream-stack\nnode.name: beatstream-1\ndiscovery.type: single-node\n"
        )

    @property
    def log_dir(self) -> Path:
        return self.config.log_dir / "elasticsearch"

    @property
    def heap(self) -> str:
        return self.config.elasticsearch_heap

    def launch_plan(self) -> LaunchPlan:
        java_home = self.java_home()
        user = service_user()
        self._write_config()
        work_dirs = [self.conf_dir, self.data_dir, self.log_dir]
        for directory in work_dirs:
            directory.mkdir(parents=True, exist_ok=True)
            chown_tree(directory, user)
        home = self.config.home
        parents = {p for d in work_dirs for p in d.parents if p == home or home in p.parents}
        for parent in parents:
            parent.chmod(parent.stat().st_mode | 0o755)
        if not (self.es_home / "bin" / "elasticsearch").exists():
            raise StackError(f"Elasticsearch {self.version} is not installed at {self.es_home}")
        heap = self.heap
        return LaunchPlan(
            argv=[str(self.es_home / "bin" / "elasticsearch")],
            marker=str(self.es_home),
            env={
                "ES_JAVA_HOME": str(java_home),
                "ES_PATH_CONF": str(self.conf_dir),
                "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
            },
            cwd=self.log_dir,
            user=user,
        )

    def is_ready(self) -> bool:
        return http_ok(f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=1s")
