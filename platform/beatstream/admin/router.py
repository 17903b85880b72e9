"""Diagnostics for operators: which index serves each catalogue query (MongoDB `explain`).

Explaining costs a round trip, so it lives here on demand rather than on every
response. Servers without `explain` (capability `explain`; the local stand-in) answer 501.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from beatstream.admin.repository import sync_status as read_sync_status
from beatstream.admin.schemas import QueryPlan, SyncStatus
from beatstream.auth.dependencies import ROLE_RESPONSES, require_admin
from beatstream.catalog import repository
from beatstream.catalog.schemas import SongListQuery
from beatstream.catalog.service import song_filters
from beatstream.common.pagination import DEFAULT_LIMIT
from beatstream.deps import CapabilitiesDep, MongoDbDep
from beatstream.errors import UnsupportedByServerError
from beatstream.stores.capabilities import ServerCapabilities

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


def require_explain(capabilities: ServerCapabilities) -> None:
    """Called in the handler, not as a dependency: a malformed query stays a 422."""
    if not capabilities.explain:
        raise UnsupportedByServerError("the connected MongoDB server cannot explain queries")


@router.get("/songs", responses=UNSUPPORTED)
async def explain_song_list(
    query: Annotated[SongListQuery, Query()], capabilities: CapabilitiesDep
) -> QueryPlan:
    require_explain(capabilities)
    plan = await repository.explain_song_list(song_filters(query), query.sort, query.limit)
    return QueryPlan(endpoint="GET /v1/songs", **plan)


@router.get("/songs/by-year/{year}", responses=UNSUPPORTED)
async def explain_songs_by_year(
    year: Annotated[int, Path(ge=1900, le=2100)], capabilities: CapabilitiesDep
) -> QueryPlan:
    require_explain(capabilities)
    plan = await repository.explain_songs_by_year(year, DEFAULT_LIMIT)
    return QueryPlan(endpoint="GET /v1/songs/by-year/{year}", **plan)


@router.get("/songs/by-artist", responses=UNSUPPORTED)
async def explain_song_search(
    q: Annotated[str, Query(min_length=1, max_length=200)],
    capabilities: CapabilitiesDep,
) -> QueryPlan:
    require_explain(capabilities)
    plan = await repository.explain_song_search(
        q, DEFAULT_LIMIT, text_search=capabilities.text_search
    )
    return QueryPlan(endpoint="GET /v1/songs/by-artist", **plan)


@router_sync.get("/status", summary="Lag, checkpoint age, counts and the last error of a sync")
async def sync_status(
    db: MongoDbDep, source: Annotated[Literal["songs", "plays"], Query()] = "songs"
) -> SyncStatus:
    return SyncStatus.model_validate(await read_sync_status(db, source))
