"""`sync --check` for plays: does every synced play have exactly one copy behind the alias?

Plays are immutable, so only presence is compared, by id. MongoDB is read up to the
sync's watermark (later plays are not due yet); Elasticsearch is read whole with a
point in time, its ids held in a set: about 80 MB per million plays, acceptable for an
operator's check. A play in the index but no longer in MongoDB is **unexpected** (an
erasure not applied, say); a play at or below the watermark missing from the index is
**lost**.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from elasticsearch import AsyncElasticsearch
from pymongo.asynchronous.database import AsyncDatabase

from pipelines import checkpoints
from pipelines.check import PAGE, CheckReport
from pipelines.sync_plays import SOURCE, pit_pages


async def _indexed_ids(es: AsyncElasticsearch, alias: str) -> set[str]:
    return {hit["_id"] async for hits in pit_pages(es, alias) for hit in hits}


async def check_plays(
    db: AsyncDatabase[dict[str, Any]], es: AsyncElasticsearch, alias: str
) -> CheckReport:
    report = CheckReport()
    await es.indices.refresh(index=alias, ignore_unavailable=True, allow_no_indices=True)
    indexed = await _indexed_ids(es, alias)
    report.in_elasticsearch = len(indexed)
    watermark = (await checkpoints.load(db, SOURCE)).changed_id
    if isinstance(watermark, ObjectId):
        due = {"_id": {"$lte": watermark}}
        async for play in db.play_events.find(due, {"_id": 1}).batch_size(PAGE):
            report.in_mongo += 1
            if str(play["_id"]) not in indexed:
                report.lost.append(str(play["_id"]))
    stray = [ObjectId(i) for i in indexed if ObjectId.is_valid(i)]
    present: set[str] = set()
    for start in range(0, len(stray), PAGE):
        chunk = {"_id": {"$in": stray[start : start + PAGE]}}
        present.update({str(p["_id"]) async for p in db.play_events.find(chunk, {"_id": 1})})
    report.unexpected = sorted(indexed - present)
    return report
