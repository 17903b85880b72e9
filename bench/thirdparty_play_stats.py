"""`play_stats`: consent read by `$lookup` (what ships) vs a consent flag kept on plays.

The shipped pipeline groups plays by (song, country, week, listener), then looks the
listener up for consent. The alternative keeps `consent_to_share_data` (and the key)
on every play, so the pipeline starts with a `$match` and needs no `$lookup`, but every
consent change must rewrite all of that listener's plays. This measures what the
alternative would save on reads: both pipelines over the same scratch data, run as
pipelines (pipeline mode, as on the stand-in), timed alternately, `REPEAT` times.

Data: 2,000 listeners (60% consenting), 100,000 plays over 200 songs, 2 countries and
12 weeks (`Random(42)`), inserted with `insert_many`. Both pipelines must return the
same rows, or the run fails.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId

from beatstream.partners.views.definitions import play_stats
from beatstream.stores.clients import create_mongo_client
from bench import report
from bench.support.stores import stack_settings

LISTENERS = 2_000
PLAYS = 100_000
SONGS = 200
REPEAT = 5
K = 5


def _flag_pipeline() -> list[dict[str, Any]]:
    """The shipped pipeline with the consent `$lookup` replaced by a `$match` on plays."""
    shipped = play_stats(K).pipeline
    first_group, _lookup, _consent, *rest = shipped
    return [{"$match": {"consenting": True}}, first_group, *rest]


async def _run() -> dict[str, Any]:
    base = stack_settings()
    url = os.environ.get("BENCH_MONGODB_URL", base.mongodb.url)
    settings = base.model_copy(update={"mongodb": base.mongodb.model_copy(update={"url": url})})
    client = create_mongo_client(settings.mongodb)
    db = client[settings.mongodb.db]
    rng = random.Random(42)
    try:
        listeners = [
            {
                "_id": ObjectId(),
                "consent_to_share_data": rng.random() < 0.6,
                "listener_key": f"key{n}",
            }
            for n in range(LISTENERS)
        ]
        await db.listeners.insert_many(listeners)
        songs = [ObjectId() for _ in range(SONGS)]
        start = datetime(2024, 1, 1, tzinfo=UTC)
        plays = []
        for _ in range(PLAYS):
            who = rng.choice(listeners)
            plays.append(
                {
                    "listener_id": who["_id"],
                    "song_id": rng.choice(songs[: rng.choice((10, SONGS))]),
                    "played_at": start + timedelta(minutes=rng.randrange(12 * 7 * 1440)),
                    "country": rng.choice(("IT", "GB")),
                    "consenting": who["consent_to_share_data"],
                }
            )
        for offset in range(0, PLAYS, 10_000):
            await db.play_events.insert_many(plays[offset : offset + 10_000])
        pipelines = {"$lookup on listeners (shipped)": play_stats(K).pipeline}
        pipelines["consent flag on plays"] = _flag_pipeline()
        timings: dict[str, list[float]] = {name: [] for name in pipelines}
        answers: dict[str, list[dict[str, Any]]] = {}
        for _ in range(REPEAT):
            for name, pipeline in pipelines.items():
                started = time.perf_counter()
                rows = await (await db.play_events.aggregate(pipeline)).to_list(None)
                timings[name].append(time.perf_counter() - started)
                answers[name] = sorted(rows, key=lambda row: str(row["row_key"]))
        first, second = answers.values()
        if first != second:
            raise RuntimeError("the two pipelines disagree")
        return {"timings": timings, "rows": len(first)}
    finally:
        await client.drop_database(settings.mongodb.db)
        await client.close()


def run() -> Path:
    measured = asyncio.run(_run())
    medians = {name: statistics.median(t) for name, t in measured["timings"].items()}
    shipped = next(iter(medians.values()))
    table = [
        {
            "pipeline": name,
            "runs": REPEAT,
            "median_s": round(seconds, 3),
            "x_shipped": round(seconds / shipped, 2),
            "rows": measured["rows"],
        }
        for name, seconds in medians.items()
    ]
    result = {"listeners": LISTENERS, "plays": PLAYS, "songs": SONGS, "k": K}
    return report.write("thirdparty_play_stats", result, table)


if __name__ == "__main__":
    run()
