"""What a seed owes the stores derived from MongoDB: Elasticsearch and the response cache.

A seed rewrites MongoDB; the songs index, the monthly play indices and the cached
answers are copies of it. Without a reset, the seed only upserts: the operator runs
`beatstream reindex songs|plays` as before (each bumps its own namespace), and the seed
bumps every namespace it fed, since the partner views read MongoDB directly. A reset
empties the seeded collections, so the copies would keep documents that no longer
exist (after a reset and a smaller reseed, Elasticsearch once held 200,011 plays
against 2,000 in MongoDB): the reset rebuilds both indices from the new data, through
the same verified build-and-swap as `reindex`, and then bumps the namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.cache.namespaces import CacheNamespace
from beatstream.cache.store import ResponseCache
from beatstream.search.indices import ensure_search_indices
from beatstream.settings import ElasticsearchSettings
from pipelines.invalidation import invalidate
from pipelines.reindex import ReindexReport, reindex_songs
from pipelines.reindex_plays import reindex_plays

# Every namespace whose answers read what a seed writes (songs, plays, listeners).
SEEDED_NAMESPACES = (
    CacheNamespace.SONGS,
    CacheNamespace.PLAYS,
    CacheNamespace.THIRDPARTY,
    CacheNamespace.CATALOG,  # the API's kept songs and playlists (beatstream.cache.reads)
    CacheNamespace.PLAYLISTS,
)


@dataclass(frozen=True, slots=True)
class DerivedStores:
    """Where MongoDB's data is copied to (`es` under `config.index_prefix`) and answered
    from (`cache`; None when no API serves from this Redis prefix)."""

    es: AsyncElasticsearch
    config: ElasticsearchSettings
    cache: ResponseCache | None


@dataclass(frozen=True, slots=True)
class DerivedReport:
    # The songs and plays rebuilds of a reset; empty without one.
    rebuilt: tuple[ReindexReport, ...]
    namespaces: tuple[CacheNamespace, ...]
    # As `ReindexReport.cache_invalidated`: False means a bump never got through.
    cache_invalidated: bool | None


async def require_reachable(derived: DerivedStores) -> None:
    """Raise (the client's connection error) if Elasticsearch does not answer: a reset
    checks this before it drops anything, so it never leaves MongoDB emptied and the
    indices unrebuilt."""
    await derived.es.info()


async def after_seed(
    db: AsyncDatabase[dict[str, Any]], derived: DerivedStores, *, reset: bool
) -> DerivedReport:
    """Rebuild the indices if the seed was a reset, then bump every seeded namespace."""
    rebuilt: tuple[ReindexReport, ...] = ()
    if reset:
        es, config, cache = derived.es, derived.config, derived.cache
        await ensure_search_indices(es, config)
        songs = await reindex_songs(db, es, config, cache=cache)
        plays = await reindex_plays(db, es, config, cache=cache)
        rebuilt = (songs, plays)
    invalidated = await invalidate(derived.cache, *SEEDED_NAMESPACES)
    if any(report.cache_invalidated is False for report in rebuilt):
        invalidated = False
    return DerivedReport(rebuilt, SEEDED_NAMESPACES, invalidated)
