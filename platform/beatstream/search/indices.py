"""The Elasticsearch index layer: explicit mappings, versioned indices behind aliases,
and the document each index holds (`song_document`, `play_document`: the one
MongoDB-row transformation, for the API, the sync, the rebuilds and tests alike).

Readers and writers address aliases (`{prefix}-songs`), never physical indices
(`{prefix}-songs-v1`). A mapping change bumps the version: start-up (or a reindex)
builds the new index beside the old one and swaps the alias in one atomic call, so
no reader ever sees a half-built index.

Songs live in one shard: the catalogue is small (tens of thousands of documents),
and on one shard terms aggregations are exact, so top-N answers need no error bound.
Play events go to monthly indices made from a template and read through one alias;
data streams would be the natural fit, but the local distribution lacks their module.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError
from elasticsearch.helpers import async_bulk, async_scan

from beatstream.common.countries import COUNTRY_CODES
from beatstream.settings import ElasticsearchSettings

logger = logging.getLogger(__name__)

ANALYSIS: dict[str, Any] = {
    "analyzer": {
        # Accents folded both ways: "beyonce" finds "Beyoncé".
        "folded": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding"],
        },
        "folded_prefix": {
            "type": "custom",
            "tokenizer": "keyword",
            "filter": ["lowercase", "asciifolding"],
        },
    },
    "normalizer": {
        "folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]},
    },
}

_TEXT_WITH_KEYWORD: dict[str, Any] = {
    "type": "text",
    "analyzer": "folded",
    "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
}

SONG_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        # The MongoDB id again, as a keyword: the tie-breaker of every sort (Elasticsearch
        # does not sort on `_id`).
        "id": {"type": "keyword"},
        "title": _TEXT_WITH_KEYWORD,
        "artist_id": {"type": "keyword"},
        "artist_name": _TEXT_WITH_KEYWORD,
        "genre": {"type": "keyword"},
        "album_title": _TEXT_WITH_KEYWORD,
        "release_year": {"type": "integer"},
        "duration_s": {"type": "integer"},
        # One long per ISO 3166-1 country: a bounded, explicit field set (249), so any
        # valid country aggregates and sorts without dynamic mapping or explosion.
        "views_per_country": {
            "dynamic": "strict",
            "properties": {code: {"type": "long"} for code in sorted(COUNTRY_CODES)},
        },
        "total_views": {"type": "long"},
        "suggest_song": {
            "type": "completion",
            "analyzer": "folded_prefix",
            "search_analyzer": "folded_prefix",
        },
        "suggest_artist": {
            "type": "completion",
            "analyzer": "folded_prefix",
            "search_analyzer": "folded_prefix",
        },
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
    },
}

PLAY_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "listener_id": {"type": "keyword"},
        "song_id": {"type": "keyword"},
        "artist_id": {"type": "keyword"},
        "genre": {"type": "keyword"},
        "country": {"type": "keyword"},
        "played_at": {"type": "date"},
        "ms_played": {"type": "integer"},
    },
}


@dataclass(frozen=True, slots=True)
class IndexSpec:
    name: str
    version: int
    mappings: dict[str, Any]

    def alias(self, prefix: str) -> str:
        return f"{prefix}-{self.name}"

    def physical(self, prefix: str, build: str | None = None) -> str:
        """A new physical index of this mapping version; each build gets its own name, so a
        full reindex can fill a fresh index while the alias still serves the old one."""
        build = build or datetime.now(UTC).strftime("%Y%m%dt%H%M%S") + f"-{secrets.token_hex(2)}"
        return f"{prefix}-{self.name}-v{self.version}-{build}"

    def is_current(self, prefix: str, index: str) -> bool:
        return index.startswith(f"{prefix}-{self.name}-v{self.version}-")


SONGS = IndexSpec("songs", 1, SONG_MAPPINGS)
PLAYS_VERSION = 1


def plays_alias(prefix: str) -> str:
    return f"{prefix}-plays"


def _plays_stem(prefix: str) -> str:
    return f"{prefix}-plays-v{PLAYS_VERSION}-"


def plays_index(prefix: str, year: int, month: int, generation: str = "") -> str:
    """The monthly index of a generation that a play at that time is written to.

    Generation "" is the original naming (`{prefix}-plays-v1-2024.01`), so indices made
    before rebuilds existed keep serving; each full rebuild writes a new generation
    (`{prefix}-plays-v1-g20261126t0300-2024.01`) beside the live one.
    """
    tag = f"g{generation}-" if generation else ""
    return f"{_plays_stem(prefix)}{tag}{year:04d}.{month:02d}"


def plays_generation_patterns(prefix: str, generation: str) -> list[str]:
    """Index patterns matching exactly one generation's monthly indices.

    Generation "" names start with the year (1xxx or 2xxx), never with `g`, so its
    patterns cannot match a rebuild's indices.
    """
    stem = _plays_stem(prefix)
    return [f"{stem}g{generation}-*"] if generation else [f"{stem}1*", f"{stem}2*"]


def plays_generation_of(prefix: str, index: str) -> str | None:
    """The generation an index belongs to; None for a name outside the scheme."""
    stem = _plays_stem(prefix)
    if not index.startswith(stem):
        return None
    rest = index.removeprefix(stem)
    if rest.startswith("g") and "-" in rest:
        return rest[1:].rsplit("-", 1)[0]
    return "" if rest[:1] in {"1", "2"} else None


def new_plays_generation() -> str:
    """Sortable by build time, unique between two builds in the same second."""
    return datetime.now(UTC).strftime("%Y%m%dt%H%M%S") + secrets.token_hex(2)


def _replicas(config: ElasticsearchSettings) -> dict[str, Any]:
    """A replica wherever there is a second node to hold it (`auto`), or a fixed count;
    a fixed count turns auto-expansion off, which would otherwise override it."""
    if config.replicas == "auto":
        return {"auto_expand_replicas": "0-1"}
    return {"number_of_replicas": config.replicas, "auto_expand_replicas": "false"}


def _settings(config: ElasticsearchSettings) -> dict[str, Any]:
    return {
        "number_of_shards": 1,
        **_replicas(config),
        "analysis": ANALYSIS,
        # Deletes carry external versions; Elasticsearch forgets a delete's version after
        # `gc_deletes`, and an older write replayed after that could resurrect the document.
        # Half a day is far longer than any replay window of the sync.
        "gc_deletes": "12h",
    }


async def alias_targets(es: AsyncElasticsearch, alias: str) -> list[str]:
    try:
        found = await es.indices.get_alias(name=alias)
    except NotFoundError:
        return []
    return sorted(found.body)


async def create_songs_index(
    es: AsyncElasticsearch, config: ElasticsearchSettings, *, bulk_load: bool = False
) -> str:
    """A fresh songs index. `bulk_load`: no refreshes, no replicas and an asynchronous
    translog until `finish_bulk_load` (a crash mid-load loses only an index nobody reads)."""
    index = SONGS.physical(config.index_prefix)
    settings = _bulk_load(_settings(config)) if bulk_load else _settings(config)
    await es.indices.create(index=index, settings=settings, mappings=SONGS.mappings)
    return index


async def finish_bulk_load(
    es: AsyncElasticsearch, config: ElasticsearchSettings, index: str
) -> None:
    await es.indices.put_settings(
        index=index,
        settings={
            "refresh_interval": None,
            **_replicas(config),
            "translog": {"durability": "request"},
        },
    )
    await es.indices.refresh(index=index)


async def ensure_songs_index(es: AsyncElasticsearch, config: ElasticsearchSettings) -> str:
    """Make the songs alias point at an index of the current mapping version.

    An alias on an older version is migrated: documents are copied client-side (scan +
    bulk; the server-side `_reindex` is in a module the local distribution lacks), the
    alias moves only after the copy, and the old index is dropped only after that.
    """
    prefix = config.index_prefix
    alias = SONGS.alias(prefix)
    current = await alias_targets(es, alias)
    if current and all(SONGS.is_current(prefix, index) for index in current):
        return current[0]
    target = await create_songs_index(es, config)
    if not current:
        await es.indices.put_alias(index=target, name=alias, is_write_index=True)
        return target
    logger.warning("migrating %s from %s to %s", alias, current, target)
    await copy_documents(es, source=alias, target=target)
    await es.indices.refresh(index=target)
    await swap_alias(es, alias, old=current, new=target)
    await es.indices.delete(index=",".join(current), ignore_unavailable=True)
    return target


async def copy_documents(es: AsyncElasticsearch, source: str, target: str) -> int:
    """Scan + bulk: the client library's own reindex helper probes the data-stream API,
    which the local distribution lacks."""
    hits = async_scan(es, index=source, query={"query": {"match_all": {}}}, size=1000)
    actions = (
        {"_index": target, "_id": hit["_id"], "_source": hit["_source"]} async for hit in hits
    )
    copied, _ = await async_bulk(es, actions, chunk_size=1000, raise_on_error=True)
    return copied


async def swap_alias(es: AsyncElasticsearch, alias: str, old: list[str], new: str) -> None:
    """One `_aliases` call: readers see the old index or the new one, never neither."""
    actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": alias}} for index in old]
    actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
    await es.indices.update_aliases(actions=actions)


def _bulk_load(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        **settings,
        "refresh_interval": "-1",
        "number_of_replicas": 0,
        "auto_expand_replicas": "false",
        "translog": {"durability": "async"},
    }


def _plays_template(prefix: str) -> str:
    return f"{prefix}-plays"


async def _recorded_generation(es: AsyncElasticsearch, prefix: str) -> str | None:
    """The generation the alias template records; None before this scheme existed."""
    found = await es.options(ignore_status=404).indices.get_index_template(
        name=_plays_template(prefix)
    )
    for template in found.get("index_templates", []):
        generation = template["index_template"].get("_meta", {}).get("generation")
        return None if generation is None else str(generation)
    return None


async def plays_generation(es: AsyncElasticsearch, prefix: str) -> str:
    """The live generation: the one new months join the read alias in.

    Kept in the alias template's `_meta` rather than derived from the alias, so it is
    known even before the generation has any index (a fresh install, an empty rebuild).
    Indices from before rebuilds existed are generation "".
    """
    return await _recorded_generation(es, prefix) or ""


async def ensure_plays_template(
    es: AsyncElasticsearch, config: ElasticsearchSettings, generation: str | None = None
) -> None:
    """Two templates, so a half-built generation never joins the read alias.

    - `{prefix}-plays` (priority 100): the live generation's monthly indices get the
      play mapping and the read alias; a month the sync writes first is created
      already readable. `generation` moves it (a rebuild's swap); None keeps it.
    - `{prefix}-plays-build` (priority 50): every other generation's indices get the
      mapping in bulk-load settings (no refreshes, no replicas) and **no alias**.

    A template from before generations (pattern `v1-*`, which would also match build
    indices, alias and all) is narrowed to generation "" here; a rebuild calls this
    before it creates any index.
    """
    prefix = config.index_prefix
    await es.indices.put_index_template(
        name=f"{prefix}-plays-build",
        index_patterns=[f"{_plays_stem(prefix)}g*"],
        template={"settings": _bulk_load(_settings(config)), "mappings": PLAY_MAPPINGS},
        priority=50,
    )
    if generation is None:
        if await _recorded_generation(es, prefix) is not None:
            return  # never rewritten at start-up: that could undo a rebuild's swap
        generation = ""
    await es.indices.put_index_template(
        name=_plays_template(prefix),
        index_patterns=plays_generation_patterns(prefix, generation),
        template={
            "settings": _settings(config),
            "mappings": PLAY_MAPPINGS,
            "aliases": {plays_alias(prefix): {}},
        },
        priority=100,
        meta={"generation": generation},
    )


async def plays_indices(es: AsyncElasticsearch, prefix: str) -> dict[str, str]:
    """Every monthly play index under `prefix`, with its generation."""
    found = await es.indices.get(index=f"{_plays_stem(prefix)}*", allow_no_indices=True)
    return {
        index: generation
        for index in found.body
        if (generation := plays_generation_of(prefix, index)) is not None
    }


async def ensure_search_indices(es: AsyncElasticsearch, config: ElasticsearchSettings) -> None:
    await ensure_plays_template(es, config)
    await ensure_songs_index(es, config)


async def drop_prefix(es: AsyncElasticsearch, prefix: str) -> None:
    """Delete every index and index template under `prefix` (test and benchmark scratch)."""
    found = await es.indices.get(index=f"{prefix}*", allow_no_indices=True, expand_wildcards="all")
    if found:
        await es.indices.delete(index=",".join(found), ignore_unavailable=True)
    templates = await es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}*")
    for template in templates.get("index_templates", []):
        await es.indices.delete_index_template(name=template["name"])


# The documents the indices hold ---------------------------------------------------


def song_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """A song row as stored in MongoDB (`_id`, embedded album and artist) to its search form.

    Suggest inputs include every word suffix of the title ("Uptown Funk" and "Funk"),
    so typing the start of any word finds the song.
    """
    title = str(row["title"])
    words = title.split()
    # All-time counters: the seeded or edited views plus the plays the roll-up counted
    # (`pipelines.rollup`), so every recorded play moves the all-time charts.
    views = {code: int(count) for code, count in dict(row.get("views_per_country") or {}).items()}
    for code, count in dict(row.get("play_counts") or {}).items():
        views[code] = views.get(code, 0) + int(count)
    artist = row["artist"]
    return {
        "id": str(row["_id"]),
        "title": title,
        "artist_id": str(artist["id"]),
        "artist_name": artist["name"],
        "genre": row["genre"],
        "album_title": row["album"]["title"],
        "release_year": row["album"]["release_year"],
        "duration_s": row.get("duration_s"),
        "views_per_country": views,
        "total_views": sum(views.values()),
        "suggest_song": {"input": [" ".join(words[i:]) for i in range(len(words))] or [title]},
        "suggest_artist": {"input": [artist["name"]]},
        "created_at": row.get("created_at"),
        "updated_at": row.get("updated_at"),
    }


def play_document(row: Mapping[str, Any], song: Mapping[str, Any] | None) -> dict[str, Any]:
    """A play event, with the song's artist and genre copied in for analytics."""
    return {
        "listener_id": str(row["listener_id"]),
        "song_id": str(row["song_id"]),
        "artist_id": str(song["artist"]["id"]) if song else None,
        "genre": song["genre"] if song else None,
        "country": row["country"],
        "played_at": row["played_at"],
        "ms_played": row["ms_played"],
    }
