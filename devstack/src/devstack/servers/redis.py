"""Redis from Debian's `redis-server` package, run in the foreground on loopback."""

from __future__ import annotations

import os
import shutil

from devstack.base import LaunchPlan, StackServer, run_checked, tcp_exchange
from devstack.process import StackError

APT_PACKAGE = "redis-server"


def apt_install(package: str) -> None:
    """Install a Debian package; refreshes the package lists once if the first try fails."""
    if os.geteuid() != 0:
        raise StackError(
            f"{package} is missing and only root can install it: apt-get install {package}"
        )
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    try:
        run_checked(install, f"apt-get install {package}", env=env)
    except StackError:
        run_checked(["apt-get", "update", "-q"], "apt-get update", env=env)
        run_checked(install, f"apt-get install {package}", env=env)


class RedisServer(StackServer):
    name = "redis"
    implementation = "Debian's redis-server"

    @property
    def url(self) -> str:
        return f"redis://{self.config.host}:{self.port}/0"

    def binary(self) -> str | None:
        return shutil.which("redis-server")

    def install(self) -> None:
        if self.binary() is None:
            apt_install(APT_PACKAGE)

    def launch_plan(self) -> LaunchPlan:
        binary = self.binary()
        if binary is None:
            raise StackError("redis-server is not installed")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            binary,
            "--bind",
            self.config.host,
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            "",
        ]
        return LaunchPlan(argv=argv, marker="redis-server")

    def is_ready(self) -> bool:
        return tcp_exchange(self.config.host, self.port, b"PING\r\n").startswith(b"+PONG")
