"""Typed settings, read once from the environment (and an optional `.env` file).

Flat variable names (`MONGODB_URL`, `ELASTICSEARCH_URL`, `REDIS_URL`, `LOG_LEVEL`...)
map onto nested sections: the first underscore splits the section from the field,
so operators keep the names every MongoDB/Elasticsearch/Redis tool already uses
while the code gets one typed object per store.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from beatstream.redact import redact_url


class _StoreSection(BaseModel):
    """A store's settings; its `repr` (and so any accidental print) masks the URL's password."""

    url: str

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "url" and isinstance(value, str) else value

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)


class MongoSettings(_StoreSection):
    """A standard MongoDB connection string: a replica set or a `mongos` list works as is."""

    url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    db: str = "beatstream"
    connect_timeout_ms: int = Field(default=3000, ge=100, le=60_000)


class ElasticsearchSettings(_StoreSection):
    """One or more node URLs, comma-separated: the client round-robins and sniffs none."""

    url: str = "http://127.0.0.1:9200"
    index_prefix: str = Field(default="beatstream", pattern=r"^[a-z0-9][a-z0-9_-]{0,60}$")
    request_timeout_s: float = Field(default=10.0, gt=0, le=300)

    @property
    def hosts(self) -> list[str]:
        return [host.strip() for host in self.url.split(",") if host.strip()]


class RedisSettings(_StoreSection):
    """`redis://` or `rediss://`; set `REDIS_CLUSTER=true` for a Redis Cluster seed node."""

    url: str = "redis://127.0.0.1:6379/0"
    cluster: bool = False
    key_prefix: str = Field(default="bs:", max_length=64)
    socket_timeout_s: float = Field(default=3.0, gt=0, le=60)


class StartupSettings(BaseModel):
    """How long start-up waits for each store before refusing to run."""

    ping_timeout_s: float = Field(default=5.0, gt=0, le=120)


class HealthSettings(BaseModel):
    ping_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # Readiness answers are reused this long; 0 still coalesces concurrent checks.
    cache_ttl_s: float = Field(default=1.0, ge=0, le=60)


class LogSettings(BaseModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console"] = "json"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    title: str = "Beatstream API"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        case_sensitive=False,
        extra="ignore",
    )

    mongodb: MongoSettings = MongoSettings()
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    redis: RedisSettings = RedisSettings()
    startup: StartupSettings = StartupSettings()
    health: HealthSettings = HealthSettings()
    log: LogSettings = LogSettings()
    api: ApiSettings = ApiSettings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings(...)` instead."""
    return Settings()
