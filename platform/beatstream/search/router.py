"""Song search and typeahead for the client apps' search box and the dashboards.

Both are cached in Redis (namespace `CacheNamespace.SONGS`, bumped when a sync batch,
a reindex or a seed changes song data), answer 304 to a current `If-None-Match`, and
say `X-Cache: hit|miss|bypass`: the shared handler of `cached_search_route`.
"""

from __future__ import annotations

from fastapi import APIRouter

from beatstream.cache.http import Elastic, cached_search_route
from beatstream.cache.namespaces import CacheNamespace
from beatstream.search import service
from beatstream.search.indices import SONGS
from beatstream.search.schemas import SearchQuery, SearchResult, Suggestions, SuggestQuery
from beatstream.stores.elasticsearch_errors import elasticsearch_unavailable_as_503

router = APIRouter(prefix="/search", tags=["search"])
SEARCH_TTL_S = 60
SUGGEST_TTL_S = 300


@cached_search_route(
    router, "/songs", SearchResult, CacheNamespace.SONGS, SEARCH_TTL_S, view="search"
)
async def search_songs(query: SearchQuery, es: Elastic) -> bytes:
    """Full-text song search with facets"""
    with elasticsearch_unavailable_as_503(es.config.safe_url):
        found = await service.search_songs(es.client, SONGS.alias(es.config.index_prefix), query)
    return found.model_dump_json().encode()


def _normalised(query: SuggestQuery) -> dict[str, object]:
    return {"prefix": query.prefix.lower(), "limit": query.limit}


@cached_search_route(
    router, "/suggest", Suggestions, CacheNamespace.SONGS, SUGGEST_TTL_S, key=_normalised
)
async def suggest(query: SuggestQuery, es: Elastic) -> bytes:
    """Typeahead for songs and artists"""
    alias = SONGS.alias(es.config.index_prefix)
    with elasticsearch_unavailable_as_503(es.config.safe_url):
        found = await service.suggest(es.client, alias, query.prefix.lower(), query.limit)
    return found.model_dump_json().encode()
