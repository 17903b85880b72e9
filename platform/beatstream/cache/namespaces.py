"""The response-cache namespaces, named once.

A route caches an answer under the namespace of the data it reads; whatever changes
that data (a sync batch, a reindex, a seed, a listener leaving the partner views)
bumps the namespace. Both sides must spell it the same way: with bare strings a typo
in either silently stops invalidation (answers stay cached for their whole TTL), so
every reader and writer uses these members, and the helpers that take a namespace
(`cached_json`, `pipelines.invalidation.invalidate`) are typed to accept only them.
"""

from __future__ import annotations

from enum import StrEnum


class CacheNamespace(StrEnum):
    # Answers read from the songs index: search, suggest, top artists/songs, genres.
    SONGS = "songs"
    # Answers read from the monthly play indices: the plays histogram.
    PLAYS = "plays"
    # Partner view pages and the change feed, read from MongoDB's listener data.
    THIRDPARTY = "thirdparty"
    # Hot reads kept in process memory (beatstream.cache.reads): songs and artists as
    # MongoDB holds them (every catalogue write, `sync --check --repair`, a seed; the play
    # roll-up and the counter repair announce single songs instead,
    # beatstream.cache.changes) ...
    CATALOG = "catalog"
    # ... and playlists (every playlist write, a seed).
    PLAYLISTS = "playlists"
