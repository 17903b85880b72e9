from __future__ import annotations

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
