"""Song search and typeahead for the client apps' search box and the dashboards.

Both are cached in Redis (namespace `CacheNamespace.SONGS`, bumped when a sync batch,
a reindex or a seed changes song data), answer 304 to a current `If-None-Match`, and
say `X-Cache: hit|miss|bypass`: the shared handler of `add_cached_search_route`.
"""

from __future__ import annotations

from elasticsearch import AsyncElasticsearch
from fastapi import APIRouter

from beatstream.cache.http import add_cached_search_route
from beatstream.cache.namespaces import CacheNamespace
from beatstream.search import service
from beatstream.search.indices import SONGS
from beatstream.search.schemas import SearchQuery, SearchResult, Suggestions, SuggestQuery
from beatstream.settings import ElasticsearchSettings
from beatstream.stores.elasticsearch_errors import elasticsearch_unavailable_as_503

router = APIRouter(prefix="/search", tags=["search"])
SEARCH_TTL_S = 60
SUGGEST_TTL_S = 300


async def _search(
    query: SearchQuery, es: AsyncElasticsearch, config: ElasticsearchSettings
) -> bytes:
    with elasticsearch_unavailable_as_503(config.safe_url):
        found = await service.search_songs(es, SONGS.alias(config.index_prefix), query)
        return found.model_dump_json().encode()


async def _suggest(
    query: SuggestQuery, es: AsyncElasticsearch, config: ElasticsearchSettings
) -> bytes:
    alias = SONGS.alias(config.index_prefix)
    with elasticsearch_unavailable_as_503(config.safe_url):
        found = await service.suggest(es, alias, query.prefix.lower(), query.limit)
        return found.model_dump_json().encode()


add_cached_search_route(
    router,
    "/songs",
    SearchQuery,
    _search,
    name="search_songs",
    view="search",
    namespace=CacheNamespace.SONGS,
    ttl_s=SEARCH_TTL_S,
    response_model=SearchResult,
    summary="Full-text song search with facets",
)
add_cached_search_route(
    router,
    "/suggest",
    SuggestQuery,
    _suggest,
    name="suggest",
    view="suggest",
    namespace=CacheNamespace.SONGS,
    ttl_s=SUGGEST_TTL_S,
    response_model=Suggestions,
    summary="Typeahead for songs and artists",
    key=lambda query: {"prefix": query.prefix.lower(), "limit": query.limit},
)
