"""A 100-song playlist: the one-round-trip read vs one query per song, same run.

Both read the same playlist from the running stack's MongoDB-wire server through
the same client; the naive read is what a `for id in song_ids: await Song.get(id)`
loop costs, the baseline the reference design's two-step fetch improves on.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from beatstream.catalog import service as catalog
from beatstream.catalog.documents import Song
from beatstream.catalog.schemas import ArtistCreate, SongCreate
from beatstream.playlists import service as playlists
from beatstream.playlists.documents import Playlist, Visibility
from bench import report
from bench.support.stores import beanie_on_scratch_db, stack_settings
from bench.support.timing import summary, time_each
from seed.builders import artist_payload, song_payload

SONGS = 100
REPEAT = 200


async def _measure() -> list[dict[str, object]]:
    rng = random.Random(42)
    async with beanie_on_scratch_db(stack_settings()):
        artist = await catalog.create_artist(ArtistCreate(**artist_payload(rng)))
        songs = [
            await catalog.create_song(SongCreate(**song_payload(rng, str(artist.id))))
            for _ in range(SONGS)
        ]
        playlist = await Playlist(
            owner_id=artist.id,
            name="bench",
            visibility=Visibility.public,
            song_ids=[s.id for s in songs],
        ).insert()
        assert playlist.id is not None
        playlist_id = playlist.id

        async def one_round_trip() -> None:
            result = await playlists.read_with_songs(playlist_id, None)
            assert len(result["songs"]) == SONGS

        async def query_per_song() -> None:
            found = await Playlist.get(playlist_id)
            assert found is not None
            resolved = [await Song.get(song_id) for song_id in found.song_ids]
            assert len(resolved) == SONGS

        rows = []
        for name, fn in (
            ("one round trip ($lookup)", one_round_trip),
            ("one query per song", query_per_song),
        ):
            rows.append(
                {
                    "read": name,
                    "songs": SONGS,
                    "reads": REPEAT,
                    **summary(await time_each(fn, REPEAT)),
                }
            )
        ratio = rows[1]["median_ms"] / rows[0]["median_ms"]  # type: ignore[operator]
        for row in rows:
            row["vs_one_round_trip"] = round(row["median_ms"] / rows[0]["median_ms"], 2)  # type: ignore[operator]
        print(f"one query per song is {ratio:.1f}x slower (median)")
        return rows


def run() -> Path:
    rows = asyncio.run(_measure())
    return report.write("playlist_read", {"rows": rows}, rows)


if __name__ == "__main__":
    run()
