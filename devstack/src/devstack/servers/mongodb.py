"""A MongoDB-wire server for machines where no MongoDB binary can be installed.

No registry this project may use ships a MongoDB server, so the stack runs
mongo-java-server (Maven Central), by default with its memory backend (about 30x
faster to load than the H2 backend, which keeps data in a file across restarts but
grew to gigabytes and failed under heavy benchmark load; `BEATSTREAM_STACK_MONGODB_BACKEND=h2`
picks it).
It was chosen by measurement over FerretDB 1.24 (see docs/mongodb-stand-in.md):
it passes more of the platform's feature probe. Where a real MongoDB is available,
point `MONGODB_URL` at it instead; tests then run the features this one lacks.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from devstack.base import LaunchPlan, StackServer, maven, run_checked
from devstack.java import find_java_home

MJS_VERSION = "1.47.0"
SLF4J_VERSION = "2.0.16"
MIN_JAVA = 17
LAUNCHER = "MongoWireLauncher"
LAUNCHER_SOURCE = Path(__file__).with_name("mongo_wire") / f"{LAUNCHER}.java"

POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.devstack</groupId>
  <artifactId>mongo-wire</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>de.bwaldvogel</groupId><artifactId>mongo-java-server</artifactId>
      <version>{MJS_VERSION}</version></dependency>
    <dependency><groupId>de.bwaldvogel</groupId><artifactId>mongo-java-server-h2-backend</artifactId>
      <version>{MJS_VERSION}</version></dependency>
    <dependency><groupId>de.bwaldvogel</groupId><artifactId>mongo-java-server-memory-backend</artifactId>
      <version>{MJS_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId>
      <version>{SLF4J_VERSION}</version></dependency>
  </dependencies>
</project>
"""


class MongoWireServer(StackServer):
    name = "mongodb"

    @property
    def implementation(self) -> str:  # type: ignore[override]
        return f"mongo-java-server {MJS_VERSION} ({self.config.mongodb_backend} backend)"

    @property
    def url(self) -> str:
        return f"mongodb://{self.config.host}:{self.port}/?directConnection=true"

    @property
    def install_dir(self) -> Path:
        return self.config.cache / f"mongo-java-server-{MJS_VERSION}"

    def install(self) -> None:
        """Download the server once; compile the launcher whenever its source changed.

        The compiled launcher carries the digest of the source it came from, so a
        machine with a warm cache picks up a changed launcher (say, one that stopped
        enabling the oplog) at the next `stack up` instead of running the old class.
        """
        if not (self.install_dir / "lib").is_dir():
            staging = self.install_dir.with_name(self.install_dir.name + ".partial")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            (staging / "pom.xml").write_text(POM)
            maven(
                self.config,
                "dependency:copy-dependencies",
                "-DoutputDirectory=lib",
                what=f"download mongo-java-server {MJS_VERSION} with Maven",
                cwd=staging,
            )
            shutil.rmtree(self.install_dir, ignore_errors=True)
            staging.rename(self.install_dir)
        stamp = self.install_dir / "classes" / "source.sha256"
        digest = hashlib.sha256(LAUNCHER_SOURCE.read_bytes()).hexdigest()
        if stamp.is_file() and stamp.read_text() == digest:
            return
        java_home = find_java_home(MIN_JAVA, self.config.java_home)
        classes = self.install_dir / "classes.partial"
        shutil.rmtree(classes, ignore_errors=True)
        run_checked(
            [
                str(java_home / "bin" / "javac"),
                "-nowarn",
                "-cp",
                f"{self.install_dir / 'lib'}/*",
                "-d",
                str(classes),
                str(LAUNCHER_SOURCE),
            ],
            "compile the MongoDB-wire launcher",
        )
        (classes / "source.sha256").write_text(digest)
        shutil.rmtree(self.install_dir / "classes", ignore_errors=True)
        classes.rename(self.install_dir / "classes")

    def launch_plan(self) -> LaunchPlan:
        java_home = find_java_home(MIN_JAVA, self.config.java_home)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        classpath = f"{self.install_dir / 'lib'}/*:{self.install_dir / 'classes'}"
        return LaunchPlan(
            argv=[
                str(java_home / "bin" / "java"),
                "-Xms256m",
                f"-Xmx{self.config.mongodb_heap}",
                "-XX:+UseParallelGC",
                "-cp",
                classpath,
                LAUNCHER,
                self.config.host,
                str(self.port),
                *self._backend_args(),
            ],
            marker=str(self.install_dir),
        )

    def _backend_args(self) -> list[str]:
        if self.config.mongodb_backend == "memory":
            return ["memory"]
        return ["h2", str(self.data_dir / "beatstream.mv")]

    def is_ready(self) -> bool:
        client: MongoClient[dict[str, object]] = MongoClient(
            self.url, serverSelectionTimeoutMS=500, connectTimeoutMS=500
        )
        try:
            client.admin.command("ping")
        except PyMongoError:
            return False
        finally:
            client.close()
        return True
