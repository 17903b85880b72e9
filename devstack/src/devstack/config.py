"""Where the stack keeps its files and which ports it binds, from `BEATSTREAM_STACK_*`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    """Root's home is closed to other users, and Elasticsearch must run as one of those,
    so as root the stack lives in /var/lib; otherwise in the user's XDG data folder."""
    if os.geteuid() == 0:
        return Path("/var/lib/beatstream/stack")
    return Path.home() / ".local" / "share" / "beatstream" / "stack"


class StackConfig(BaseSettings):
    """Downloads are cached apart from data: wiping the data keeps the cache warm."""

    model_config = SettingsConfigDict(env_prefix="BEATSTREAM_STACK_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    cache: Path = Field(default_factory=lambda: Path.home() / ".cache" / "beatstream")
    maven_repo: Path = Field(default_factory=lambda: Path.home() / ".m2" / "repository")
    host: str = "127.0.0.1"
    redis_port: int = Field(default=6379, ge=1, le=65535)
    elasticsearch_port: int = Field(default=9200, ge=1, le=65535)
    mongodb_port: int = Field(default=27017, ge=1, le=65535)
    elasticsearch_version: str = "9.5.3"
    java_home: str | None = None
    elasticsearch_heap: str = "768m"
    # mongo-java-server's backend (docs/mongodb-stand-in.md): `memory` is about 30x
    # faster to load and never bloats or corrupts a file, but forgets everything at
    # `stack down`; `h2` keeps data in one file across restarts.
    mongodb_backend: Literal["memory", "h2"] = "memory"
    # Either backend keeps its indexes (memory: all data too) on the heap.
    mongodb_heap: str = Field(default="4g", pattern=r"^[0-9]+[mg]$")
    start_timeout_s: float = Field(default=180.0, gt=0)
    # `stack up --cluster` (devstack.cluster): nodes take consecutive ports from these.
    cluster_elasticsearch_port: int = Field(default=9201, ge=1, le=65533)
    cluster_elasticsearch_transport_port: int = Field(default=9301, ge=1, le=65533)
    cluster_elasticsearch_heap: str = Field(default="384m", pattern=r"^[0-9]+[mg]$")
    cluster_redis_port: int = Field(default=7001, ge=1, le=65530)
    # Small, so a killed primary's replica takes over within about two seconds.
    cluster_redis_node_timeout_ms: int = Field(default=1000, ge=100)

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    def data_dir(self, server: str) -> Path:
        return self.home / "data" / server
