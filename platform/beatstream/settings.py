"""Typed settings, read once from the environment (and an optional `.env` file).

Flat variable names (`MONGODB_URL`, `ELASTICSEARCH_URL`, `REDIS_URL`, `LOG_LEVEL`...)
map onto nested sections: the first underscore splits the section from the field,
so operators keep the names every MongoDB/Elasticsearch/Redis tool already uses
while the code gets one typed object per store.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from beatstream.redact import redact_url


def split_hosts(url: str) -> list[str]:
    return [host.strip() for host in url.split(",") if host.strip()]


class StoreSection(BaseModel):
    """A store's settings; its `repr` (and so any accidental print) masks the URL's password."""

    schemes: ClassVar[tuple[str, ...]]
    url: str

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        """Catch a wrong URL at start-up, by name, rather than as a client's traceback."""
        parts = cls.url_parts(value)
        if not parts:
            raise ValueError("must not be empty")
        for part in parts:
            if not part.startswith(cls.schemes):
                shown = redact_url(part)
                raise ValueError(f"{shown!r} must start with {' or '.join(cls.schemes)}")
        return value

    @classmethod
    def url_parts(cls, value: str) -> list[str]:
        return [value.strip()] if value.strip() else []

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "url" and isinstance(value, str) else value

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)


class MongoSettings(StoreSection):
    """A standard MongoDB connection string: a replica set or a `mongos` list works as is."""

    schemes = ("mongodb://", "mongodb+srv://")
    url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    db: str = "beatstream"
    # Each named after the PyMongo option it sets.
    # serverSelectionTimeoutMS: how long an operation waits for a usable server (fail
    # fast when MongoDB is down).
    server_selection_timeout_ms: int = Field(default=3000, ge=100, le=60_000)
    # connectTimeoutMS: opening a connection, and also the heartbeat's socket timeout: a
    # server busy with a long scan must not be declared dead (that cancels every
    # operation in flight on it).
    connect_timeout_ms: int = Field(default=20_000, ge=100, le=600_000)
    # socketTimeoutMS: unset, an operation may run as long as it needs (a reindex scan).
    socket_timeout_ms: int | None = Field(default=None, ge=100)


class ElasticsearchSettings(StoreSection):
    """One or more node URLs, comma-separated: the client round-robins and sniffs none."""

    schemes = ("http://", "https://")
    url: str = "http://127.0.0.1:9200"
    index_prefix: str = Field(default="beatstream", pattern=r"^[a-z0-9][a-z0-9_-]{0,60}$")
    request_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # Create or migrate the search indices at start; off where a deploy step does it.
    manage_indices: bool = True
    # "auto": one replica of every shard once the cluster has a second data node, none
    # on a single node (Elasticsearch's `auto_expand_replicas: 0-1`); a number fixes it.
    replicas: int | Literal["auto"] = Field(default="auto", ge=0, le=5)

    @classmethod
    def url_parts(cls, value: str) -> list[str]:
        return split_hosts(value)

    @property
    def hosts(self) -> list[str]:
        return split_hosts(self.url)


class RedisSettings(StoreSection):
    """`redis://` or `rediss://`; set `REDIS_CLUSTER=true` for a Redis Cluster seed node."""

    schemes = ("redis://", "rediss://", "unix://")
    url: str = "redis://127.0.0.1:6379/0"
    cluster: bool = False
    key_prefix: str = Field(default="bs:", max_length=64)
    socket_timeout_s: float = Field(default=3.0, gt=0, le=60)
    max_connections: int = Field(default=200, ge=1, le=10_000)


class StartupSettings(BaseModel):
    """How long start-up waits for each store before refusing to run."""

    ping_timeout_s: float = Field(default=5.0, gt=0, le=120)


def _networks(value: object) -> object:
    """`"10.0.0.0/8, 192.168.1.7"` -> `"10.0.0.0/8,192.168.1.7/32"`; a bad entry is an error."""
    if not isinstance(value, str):
        return value
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    return ",".join(str(ipaddress.ip_network(entry, strict=False)) for entry in entries)


class HealthSettings(BaseModel):
    ping_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # Readiness answers are reused this long; 0 still coalesces concurrent checks.
    cache_ttl_s: float = Field(default=1.0, ge=0, le=60)
    # Callers from these networks (comma-separated CIDRs) see store versions and errors
    # on /health/ready, as admins do; everybody else sees the status only.
    detail_networks: str = ""

    _check_networks = field_validator("detail_networks", mode="before")(_networks)


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
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=100 * 1_048_576)
    # Per-process reuse of cached search/analytics answers, in front of Redis; 0 = off.
    # Bounds how long a result may outlive an invalidation (see search/microcache.py).
    microcache_ttl_s: float = Field(default=1.0, ge=0, le=10)
    microcache_entries: int = Field(default=2048, ge=1, le=1_000_000)
    # Songs and public playlists kept per process, exactly current (cache/reads.py);
    # 0 = off. The age bounds only writes made outside the API and pipelines.
    hot_read_entries: int = Field(default=20_000, ge=0, le=1_000_000)
    hot_read_max_age_s: float = Field(default=60.0, ge=1, le=3600)
    # Addresses (comma-separated IPs or CIDRs) of the reverse proxies whose
    # `X-Forwarded-For`/`-Proto` are believed. Empty: nobody's, and the client address
    # (rate limits, login lock-out) is always the TCP peer. docs/deployment.md.
    trusted_proxies: str = ""
    # Longest request target (path and query) and all header lines together, in bytes:
    # 414 / 431 past them. The server refuses a request head past their sum outright.
    max_url_bytes: int = Field(default=8192, ge=256, le=65_536)
    max_header_bytes: int = Field(default=16_384, ge=1024, le=65_536)

    _check_proxies = field_validator("trusted_proxies", mode="before")(_networks)


MIN_JWT_SECRET_LENGTH = 32


class SecuritySettings(BaseModel):
    """Client-app accounts: signed access tokens and slow password hashes.

    Without `jwt_secret` the lifespan makes a random one per process (and says so):
    fine on a laptop, wrong behind a load balancer or across restarts.
    """

    # Errors never echo what was given: it may be (most of) the secret.
    model_config = ConfigDict(hide_input_in_errors=True)

    jwt_secret: SecretStr | None = Field(default=None, min_length=MIN_JWT_SECRET_LENGTH)
    # Only HMAC-SHA256: one shared secret, and no algorithm is taken from the token.
    jwt_algorithm: Literal["HS256"] = "HS256"
    # Short: a revoked or demoted account's token dies on its own soon after.
    access_token_ttl_s: int = Field(default=900, ge=60, le=86_400)
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 "low memory" profile).
    password_time_cost: int = Field(default=3, ge=1, le=20)
    password_memory_kib: int = Field(default=65_536, ge=8, le=1_048_576)
    password_parallelism: int = Field(default=4, ge=1, le=16)
    # Hashes computed at once per process: each holds `password_memory_kib` of RAM.
    password_max_concurrent: int = Field(default=4, ge=1, le=64)
    # Failed logins allowed per (email, client address) before 429, and the window.
    login_max_failures: int = Field(default=10, ge=1, le=1000)
    login_window_s: int = Field(default=900, ge=1, le=86_400)
    # Each process reuses an account's role and token generation this long, sparing
    # MongoDB a read per request; also the longest a role change, logout-everywhere,
    # password change or erasure made by another process takes to reach this one.
    # 0 reads MongoDB on every authenticated request.
    account_cache_ttl_s: float = Field(default=5.0, ge=0, le=60)

    @field_validator("jwt_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`SECURITY_JWT_SECRET=` (as in .env.example) means "not set", not a short secret."""
        return None if value == "" else value


class RateLimitSettings(BaseModel):
    """Requests allowed per window: per partner key, per signed-in account, and per
    client IP for everything else (platform/beatstream/ratelimit.py says who counts where).

    `window_s` stays a minute in production; tests shorten it to watch a window refill.
    """

    enabled: bool = True
    window_s: int = Field(default=60, ge=1, le=3600)
    # Per API key (a key's own `rate_limit` overrides it).
    key_limit: int = Field(default=600, ge=1, le=1_000_000)
    # Per client IP, for requests without a credential that verifies.
    anonymous_limit: int = Field(default=300, ge=1, le=1_000_000)
    # Per signed-in account (a bearer token that verifies), whatever its address.
    user_limit: int = Field(default=1200, ge=1, le=1_000_000)


class PartnersSettings(BaseModel):
    # Audit rows older than this are removed by a MongoDB TTL index; 0 keeps them forever.
    audit_retention_days: int = Field(default=400, ge=0, le=3650)
    # Each process reuses a key's record this long, sparing MongoDB a lookup per request;
    # also the longest a revoked key keeps working there. 0 looks up every request.
    key_cache_ttl_s: float = Field(default=5.0, ge=0, le=60)


class ThirdPartySettings(BaseModel):
    """Masked views for analytics partners (docs/thirdparty.md).

    `pseudonym_secret` keys the HMAC behind every pseudonymous listener key and seals
    the feed cursors: whoever holds it can link keys back to listeners, so it lives
    only in the environment. Unset, each process makes an ephemeral one (with a
    warning): keys then change at every restart, fine for development only.
    """

    pseudonym_secret: SecretStr | None = Field(default=None, min_length=32)
    # Small-cell suppression: an aggregate row over fewer listeners is not published.
    min_group_size: int = Field(default=5, ge=2, le=1000)
    # How long a JSON page is reused; consent withdrawal invalidates at once regardless.
    cache_ttl_s: int = Field(default=60, ge=1, le=3600)

    @field_validator("pseudonym_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`THIRDPARTY_PSEUDONYM_SECRET=` (as in .env.example) means "not set"."""
        return None if value == "" else value


class MetricsSettings(BaseModel):
    """Prometheus metrics (docs/observability.md).

    `path` is served on the API port, unauthenticated, unless `port` is set: then the
    metrics are served on that port only (bind it to an internal interface with
    `host`), never on the public one. The sync serves its own on `sync_port`.
    """

    enabled: bool = True
    path: str = Field(default="/metrics", pattern=r"^/[A-Za-z0-9/_.-]*$")
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    sync_port: int | None = Field(default=None, ge=1, le=65535)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        case_sensitive=False,
        extra="ignore",
        # Errors name the variable, never echo its value: URLs and the JWT secret
        # carry credentials, and start-up errors end up in logs.
        hide_input_in_errors=True,
    )

    mongodb: MongoSettings = MongoSettings()
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    redis: RedisSettings = RedisSettings()
    startup: StartupSettings = StartupSettings()
    health: HealthSettings = HealthSettings()
    log: LogSettings = LogSettings()
    api: ApiSettings = ApiSettings()
    security: SecuritySettings = SecuritySettings()
    thirdparty: ThirdPartySettings = ThirdPartySettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    partners: PartnersSettings = PartnersSettings()
    metrics: MetricsSettings = MetricsSettings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings(...)` instead."""
    return Settings()
