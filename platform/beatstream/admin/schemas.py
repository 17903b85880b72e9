from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from beatstream.common.inputs import OutputModel


class QueryPlan(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "endpoint": "GET /v1/songs/by-year/{year}",
                    "stages": ["LIMIT", "FETCH", "IXSCAN"],
                    "indexes": ["album_release_year_desc"],
                    "collection_scan": False,
                    "winning_plan": {"stage": "LIMIT"},
                }
            ]
        }
    )

    endpoint: str
    stages: list[str]
    indexes: list[str] = Field(description="Indexes the winning plan reads.")
    collection_scan: bool
    winning_plan: dict[str, Any]


class SyncStatus(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "songs",
                    "mode": "polling",
                    "lag_s": 0.0,
                    "checkpoint_age_s": 0.4,
                    "last_change_at": "2026-01-05T10:00:00Z",
                    "applied": 51234,
                    "dead_letters": 2,
                    "last_error": None,
                }
            ]
        }
    )

    source: str
    mode: str | None = Field(description="change_stream or polling; null before the first run")
    lag_s: float = Field(description="Age of the oldest change not yet applied; 0 = caught up")
    checkpoint_age_s: float | None
    last_change_at: datetime | None
    applied: int
    dead_letters: int
    last_error: str | None
