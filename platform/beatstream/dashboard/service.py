"""What the dashboard's server render needs: the first page of a search, read through
the same Redis entry the browser's `GET /v1/search/songs` would use (same view, same
validated key), so a page rendered here and the API's answer are the same bytes.

The page's query string is the API's (plus view-only keys the browser reads: chart
country, plays range and interval, the page number); the search keys are validated by
`SearchQuery` exactly as the API validates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pycountry
from pydantic import ValidationError

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.search import service
from beatstream.search.indices import SONGS
from beatstream.search.schemas import SearchQuery, SearchResult
from beatstream.settings import ElasticsearchSettings
from beatstream.stores.elasticsearch_errors import elasticsearch_unavailable_as_503

# The search route's cache view and TTL (search/router.py), shared so the entry is one.
SEARCH_VIEW = "search"
SEARCH_TTL_S = 60
PAGE_SIZE = 20
SEARCH_KEYS = (
    "q",
    "genre",
    "year_from",
    "year_to",
    "duration_min",
    "duration_max",
    "artist",
    "sort",
    "cursor",
)
COUNTRIES = sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1])


@dataclass
class FirstPage:
    """The server-rendered search: its query, its answer, or why there is none."""

    query: SearchQuery | None
    result: SearchResult | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


def parse_query(params: Mapping[str, str]) -> FirstPage:
    """The search part of the page's query string, validated; empty values are unset
    (a plain HTML form submits every field, filled or not)."""
    raw: dict[str, Any] = {k: params[k] for k in SEARCH_KEYS if params.get(k, "").strip()}
    try:
        return FirstPage(SearchQuery.model_validate({**raw, "limit": PAGE_SIZE}))
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in error["loc"]) or "query", "detail": error["msg"]}
            for error in exc.errors()
        ]
        return FirstPage(None, errors=errors)


async def first_page(
    es: Any, config: ElasticsearchSettings, cache: ResponseCache, query: SearchQuery
) -> SearchResult:
    """Raises `StoreUnavailableError` when Elasticsearch is unreachable (a banner)."""

    async def compute() -> bytes:
        alias = SONGS.alias(config.index_prefix)
        with elasticsearch_unavailable_as_503(config.safe_url):
            found = await service.search_songs(es, alias, query)
        return found.model_dump_json().encode()

    params = {"view": SEARCH_VIEW, **query.model_dump(mode="json")}
    cached = await cache.get_or_compute(CacheNamespace.SONGS, params, SEARCH_TTL_S, compute)
    return SearchResult.model_validate_json(cached.body)
