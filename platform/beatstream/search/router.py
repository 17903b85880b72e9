"""Song search and typeahead for the client apps' search box and the dashboards."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from beatstream.deps import EsDep, SettingsDep
from beatstream.search import service
from beatstream.search.errors import elasticsearch_unavailable_as_503
from beatstream.search.indices import SONGS
from beatstream.search.schemas import SearchQuery, SearchResult, Suggestions, SuggestQuery

router = APIRouter(prefix="/search", tags=["search"])
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "Elasticsearch is unreachable; retry after the Retry-After seconds"}
}


@router.get("/songs", responses=UNAVAILABLE, summary="Full-text song search with facets")
async def search_songs(
    query: Annotated[SearchQuery, Query()], es: EsDep, settings: SettingsDep
) -> SearchResult:
    with elasticsearch_unavailable_as_503(settings.elasticsearch.safe_url):
        return await service.search_songs(
            es, SONGS.alias(settings.elasticsearch.index_prefix), query
        )


@router.get("/suggest", responses=UNAVAILABLE, summary="Typeahead for songs and artists")
async def suggest(
    query: Annotated[SuggestQuery, Query()], es: EsDep, settings: SettingsDep
) -> Suggestions:
    with elasticsearch_unavailable_as_503(settings.elasticsearch.safe_url):
        return await service.suggest(
            es, SONGS.alias(settings.elasticsearch.index_prefix), query.prefix, query.limit
        )
