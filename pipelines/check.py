"""`sync --check`: does Elasticsearch hold exactly what MongoDB says it should?

Both sides are read in id order (MongoDB by `_id`, Elasticsearch by the `id` keyword,
which sorts the same way for ObjectId hex strings) and merged: every id is either in
both (then its transformed content is compared by hash), only in MongoDB (**lost**)
or only in Elasticsearch (**unexpected**). Content that differs is **stale**.
`--repair` re-syncs exactly those ids through the normal versioned write path.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.cache.namespaces import CacheNamespace
from beatstream.search.indices import SONGS, song_document
from beatstream.settings import ElasticsearchSettings
from pipelines.bulk import index_action
from pipelines.invalidation import invalidate
from pipelines.sync import SongSync

PAGE = 1000
_CURRENT_VERSION = re.compile(r"current version \[(\d+)\]")


@dataclass
class CheckReport:
    in_mongo: int = 0
    in_elasticsearch: int = 0
    lost: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.unexpected or self.stale)


def _digest(source: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


async def _mongo_side(
    db: AsyncDatabase[dict[str, Any]], es: AsyncElasticsearch
) -> AsyncIterator[tuple[str, str]]:
    """(id, digest of the document as the sync would send it), in `_id` order."""
    serializer = es.transport.serializers.get_serializer("application/json")
    async for row in db.songs.find({}).sort("_id", 1).batch_size(PAGE):
        try:
            sent = json.loads(serializer.dumps(song_document(row)))
        except (KeyError, TypeError, ValueError):
            sent = {"untransformable": str(row["_id"])}
        yield str(row["_id"]), _digest(sent)


async def _es_side(es: AsyncElasticsearch, alias: str) -> AsyncIterator[tuple[str, str]]:
    after: list[Any] | None = None
    while True:
        response = await es.search(
            index=alias,
            size=PAGE,
            sort=[{"id": "asc"}],
            query={"match_all": {}},
            search_after=after,
        )
        hits = response["hits"]["hits"]
        for hit in hits:
            yield hit["_id"], _digest(hit["_source"])
        if len(hits) < PAGE:
            return
        after = hits[-1]["sort"]


async def _next(items: AsyncIterator[tuple[str, str]]) -> tuple[str, str] | None:
    return await anext(items, None)


async def check_songs(
    db: AsyncDatabase[dict[str, Any]], es: AsyncElasticsearch, config: ElasticsearchSettings
) -> CheckReport:
    report = CheckReport()
    mongo, search = _mongo_side(db, es), _es_side(es, SONGS.alias(config.index_prefix))
    m, e = await _next(mongo), await _next(search)
    while m is not None or e is not None:
        if e is None or (m is not None and m[0] < e[0]):
            assert m is not None
            report.in_mongo += 1
            report.lost.append(m[0])
            m = await _next(mongo)
        elif m is None or e[0] < m[0]:
            report.in_elasticsearch += 1
            report.unexpected.append(e[0])
            e = await _next(search)
        else:
            report.in_mongo += 1
            report.in_elasticsearch += 1
            if m[1] != e[1]:
                report.stale.append(m[0])
            m, e = await _next(mongo), await _next(search)
    return report


async def repair_songs(sync: SongSync, report: CheckReport, attempts: int = 3) -> int:
    """Re-apply exactly the ids the check flagged, through the versioned write path.

    If Elasticsearch holds a higher version than MongoDB for an id (it was written
    out of band), MongoDB's version is moved past it first: MongoDB stays the source
    of the content, and later syncs keep winning over what was there.
    """
    ids = [ObjectId(i) for i in report.lost + report.stale]
    deletes = [(i, await sync.delete_version(ObjectId(i))) for i in report.unexpected]
    repaired = (await sync.apply([], deletes)).succeeded if deletes else 0
    for _ in range(attempts):
        if not ids:
            break
        rows = await sync.db.songs.find({"_id": {"$in": ids}}).to_list(None)
        operations: list[dict[str, Any]] = []
        for row in rows:
            doc = song_document(row)
            operations += [index_action(sync.alias, doc["id"], row), doc]
        response = (await sync.es.bulk(operations=operations)).body if operations else {}
        behind: dict[ObjectId, int] = {}
        for item in response.get("items", []):
            result = item["index"]
            if result.get("status") == 409:
                current = _CURRENT_VERSION.search(str(result.get("error")))
                behind[ObjectId(result["_id"])] = int(current.group(1)) if current else 0
            elif int(result.get("status", 500)) < 300:
                repaired += 1
        for doc_id, es_version in behind.items():
            await sync.db.songs.update_one({"_id": doc_id}, {"$max": {"version": es_version + 1}})
        if behind:  # their versions moved: the API's kept song answers are stale
            await invalidate(sync.cache, CacheNamespace.CATALOG)
        ids = list(behind)
    return repaired
