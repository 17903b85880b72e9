"""Reading 100 songs: full Beanie models vs projection vs `lazy_parse` vs raw PyMongo.

Each way ends where the API needs it: validated into the `SongOut` response model.
The rule this informs: if full model validation costs more than 30% over the
fastest path, hot list endpoints should use the faster one.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from beatstream.catalog import service as catalog
from beatstream.catalog.documents import Song
from beatstream.catalog.schemas import ArtistCreate, SongCreate, SongOut
from bench import report
from bench.support.stores import beanie_on_scratch_db, stack_settings
from bench.support.timing import summary, time_each
from seed.builders import artist_payload, song_payload

SONGS = 100
REPEAT = 200


class SongProjection(SongOut):
    """`SongOut` as a Beanie projection: only these fields leave the server."""

    class Settings:
        projection = {"_id": 1, **{f: 1 for f in SongOut.model_fields if f != "id"}}  # noqa: RUF012


async def _measure() -> list[dict[str, Any]]:
    rng = random.Random(42)
    async with beanie_on_scratch_db(stack_settings()):
        artist = await catalog.create_artist(ArtistCreate(**artist_payload(rng)))
        for _ in range(SONGS):
            await catalog.create_song(SongCreate(**song_payload(rng, str(artist.id))))

        async def full_models() -> None:
            songs = await Song.find({}).limit(SONGS).to_list()
            assert len([SongOut.model_validate(s) for s in songs]) == SONGS

        async def projection() -> None:
            songs = await Song.find({}).limit(SONGS).project(SongProjection).to_list()
            assert len(songs) == SONGS

        async def lazy_parse() -> None:
            songs = await Song.find({}, lazy_parse=True).limit(SONGS).to_list()
            assert len([SongOut.model_validate(s) for s in songs]) == SONGS

        async def raw_pymongo() -> None:
            rows = await Song.get_pymongo_collection().find({}).limit(SONGS).to_list(SONGS)
            assert len([SongOut.model_validate(r) for r in rows]) == SONGS

        rows: list[dict[str, Any]] = []
        for name, fn in (
            ("Beanie full models", full_models),
            ("Beanie projection", projection),
            ("Beanie lazy_parse", lazy_parse),
            ("raw PyMongo", raw_pymongo),
        ):
            rows.append({"path": name, "songs": SONGS, **summary(await time_each(fn, REPEAT))})
        fastest = min(r["median_ms"] for r in rows)
        for row in rows:
            row["vs_fastest"] = round(row["median_ms"] / fastest, 2)
        return rows


def run() -> Path:
    rows = asyncio.run(_measure())
    return report.write("song_models", {"rows": rows}, rows)


if __name__ == "__main__":
    run()
