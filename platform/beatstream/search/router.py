"""Song search and typeahead for the client apps' search box and the dashboards.

Both are cached in Redis (namespace `CacheNamespace.SONGS`, bumped when a sync batch,
a reindex or a seed changes song data), answer 304 to a current `If-None-Match`, and
say `X-Cache: hit|miss|bypass`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from beatstream.cache.namespaces import CacheNamespace
from beatstream.deps import EsDep, SettingsDep
from beatstream.search import service
from beatstream.search.dependencies import CacheDep
from beatstream.search.errors import elasticsearch_unavailable_as_503
from beatstream.search.indices import SONGS
from beatstream.search.responses import CACHED_RESPONSES, cached_json
from beatstream.search.schemas import SearchQuery, SearchResult, Suggestions, SuggestQuery

router = APIRouter(prefix="/search", tags=["search"])
RESPONSES = CACHED_RESPONSES
SEARCH_TTL_S = 60
SUGGEST_TTL_S = 300


@router.get(
    "/songs",
    response_model=SearchResult,
    responses=RESPONSES,
    summary="Full-text song search with facets",
)
async def search_songs(
    query: Annotated[SearchQuery, Query()],
    es: EsDep,
    settings: SettingsDep,
    cache: CacheDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    alias = SONGS.alias(settings.elasticsearch.index_prefix)

    async def compute() -> bytes:
        with elasticsearch_unavailable_as_503(settings.elasticsearch.safe_url):
            return (await service.search_songs(es, alias, query)).model_dump_json().encode()

    return await cached_json(
        cache,
        CacheNamespace.SONGS,
        "search",
        query.model_dump(mode="json"),
        SEARCH_TTL_S,
        compute,
        if_none_match,
    )


@router.get(
    "/suggest",
    response_model=Suggestions,
    responses=RESPONSES,
    summary="Typeahead for songs and artists",
)
async def suggest(
    query: Annotated[SuggestQuery, Query()],
    es: EsDep,
    settings: SettingsDep,
    cache: CacheDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    alias = SONGS.alias(settings.elasticsearch.index_prefix)

    async def compute() -> bytes:
        with elasticsearch_unavailable_as_503(settings.elasticsearch.safe_url):
            found = await service.suggest(es, alias, query.prefix.lower(), query.limit)
            return found.model_dump_json().encode()

    params = {"prefix": query.prefix.lower(), "limit": query.limit}
    return await cached_json(
        cache, CacheNamespace.SONGS, "suggest", params, SUGGEST_TTL_S, compute, if_none_match
    )
