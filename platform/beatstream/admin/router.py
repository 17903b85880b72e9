"""Operator routes: which index serves each catalogue query (MongoDB `explain`), sync state.

Thin by rule: every handler calls `beatstream.admin.service` (docs/architecture.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from beatstream.admin import service
from beatstream.admin.schemas import QueryPlan, SyncStatus
from beatstream.auth.dependencies import ROLE_RESPONSES, require_admin
from beatstream.catalog.schemas import SongListQuery
from beatstream.deps import CapabilitiesDep, MongoDbDep

# Operators only: plans and sync state describe the deployment, not the catalogue.
ADMINS = [Depends(require_admin)]
router = APIRouter(
    prefix="/admin/explain", tags=["admin"], dependencies=ADMINS, responses=ROLE_RESPONSES
)
router_sync = APIRouter(
    prefix="/admin/sync", tags=["admin"], dependencies=ADMINS, responses=ROLE_RESPONSES
)
UNSUPPORTED: dict[int | str, dict[str, Any]] = {
    501: {"description": "The MongoDB server cannot explain queries"}
}


@router.get("/songs", responses=UNSUPPORTED)
async def explain_song_list(
    query: Annotated[SongListQuery, Query()], capabilities: CapabilitiesDep
) -> QueryPlan:
    return await service.explain_song_list(query, capabilities)


@router.get("/songs/by-year/{year}", responses=UNSUPPORTED)
async def explain_songs_by_year(
    year: Annotated[int, Path(ge=1900, le=2100)], capabilities: CapabilitiesDep
) -> QueryPlan:
    return await service.explain_songs_by_year(year, capabilities)


@router.get("/songs/by-artist", responses=UNSUPPORTED)
async def explain_song_search(
    q: Annotated[str, Query(min_length=1, max_length=200)],
    capabilities: CapabilitiesDep,
) -> QueryPlan:
    return await service.explain_song_search(q, capabilities)


@router_sync.get("/status", summary="Lag, checkpoint age, counts and the last error of a sync")
async def sync_status(
    db: MongoDbDep, source: Annotated[Literal["songs", "plays"], Query()] = "songs"
) -> SyncStatus:
    return await service.sync_status(db, source)
