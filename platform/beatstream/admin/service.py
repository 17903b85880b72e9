"""Operator diagnostics: query plans of the catalogue's reads and the sync pipelines' state.

Admin owns no collection. A plan comes from `beatstream.catalog.repository`, which
builds the very query the catalogue route runs (explaining a copy would prove
nothing); sync state comes from `pipelines.state`, which owns the pipelines'
collections. Routers call this module, never a repository.

Explaining costs a round trip, so it happens on demand rather than on every
response. Servers without `explain` (capability `explain`; the local stand-in) answer 501.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from beatstream.admin.schemas import QueryPlan, SyncStatus
from beatstream.catalog import repository as catalog
from beatstream.catalog.schemas import SongListQuery
from beatstream.catalog.service import song_filters
from beatstream.common.pagination import DEFAULT_LIMIT
from beatstream.errors import UnsupportedByServerError
from beatstream.stores.capabilities import ServerCapabilities
from pipelines.state import sync_status as read_sync_status


def require_explain(capabilities: ServerCapabilities) -> None:
    """Checked once the request is valid (not as a dependency): a malformed query stays a 422."""
    if not capabilities.explain:
        raise UnsupportedByServerError("the connected MongoDB server cannot explain queries")


async def explain_song_list(query: SongListQuery, capabilities: ServerCapabilities) -> QueryPlan:
    require_explain(capabilities)
    plan = await catalog.explain_song_list(song_filters(query), query.sort, query.limit)
    return QueryPlan(endpoint="GET /v1/songs", **plan)


async def explain_songs_by_year(year: int, capabilities: ServerCapabilities) -> QueryPlan:
    require_explain(capabilities)
    plan = await catalog.explain_songs_by_year(year, DEFAULT_LIMIT)
    return QueryPlan(endpoint="GET /v1/songs/by-year/{year}", **plan)


async def explain_song_search(text: str, capabilities: ServerCapabilities) -> QueryPlan:
    require_explain(capabilities)
    plan = await catalog.explain_song_search(
        text, DEFAULT_LIMIT, text_search=capabilities.text_search
    )
    return QueryPlan(endpoint="GET /v1/songs/by-artist", **plan)


async def sync_status(db: AsyncDatabase[dict[str, Any]], source: str) -> SyncStatus:
    return SyncStatus.model_validate(await read_sync_status(db, source))
