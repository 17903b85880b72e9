from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class StoreHealth(BaseModel):
    """One store as it answered the readiness probe just now."""

    up: bool
    version: str | None
    rtt_ms: float | None
    error: str | None


class ReadinessStatus(BaseModel):
    """What an anonymous caller learns: up or not, never which versions run or why."""

    status: Literal["ready", "unavailable"]


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "stores": {
                        "mongodb": {"up": True, "version": "8.0.4", "rtt_ms": 1.9, "error": None},
                        "elasticsearch": {
                            "up": True,
                            "version": "9.1.5 (default)",
                            "rtt_ms": 3.2,
                            "error": None,
                        },
                        "redis": {"up": True, "version": "7.0.15", "rtt_ms": 0.6, "error": None},
                    },
                }
            ]
        }
    )

    status: Literal["ready", "unavailable"]
    stores: dict[str, StoreHealth]
