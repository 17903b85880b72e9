"""The first-run demo: a small, realistic catalogue so every endpoint family answers.

`make serve` runs `beatstream demo` before the API: on an empty database it loads a
deterministic catalogue (`seed.generate` with `DEMO_SEED`) whose plays fall in the
year before now, so the analytics defaults (the last 30 days) have data; listeners with
the usual consent mix and, when the pseudonym secret is set, their pseudonymous keys,
so the partner views have rows; a few public playlists; one editor and one admin
account and one partner key, whose secrets are returned once and stored only hashed;
then it builds both search indices and bumps the cache namespaces it fed.

It never writes into a database that holds any catalogue, listener, play or playlist
document (`is_empty`): a demo mixed into real data would be impossible to take out.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from beanie import PydanticObjectId

from beatstream.auth.principals import Role
from beatstream.catalog.documents import Artist, Song
from beatstream.listeners.documents import Listener, PlayEvent
from beatstream.partners.schemas import ALL_VIEWS_SCOPE
from beatstream.partners.service import create_key
from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.playlists.documents import Playlist, Visibility
from pipelines.derived import DerivedReport, DerivedStores, after_seed
from seed import generate
from seed.generate import Counts
from seed.load import Database, LoadReport, load

DEMO_SEED = 2026
# Small enough to load and index in seconds on a laptop, large enough for facets,
# skewed top charts and a few hundred consenting listeners in the partner views.
DEMO_COUNTS = Counts(artists=60, songs=800, listeners=400, plays=10_000)
PLAYS_SPAN = timedelta(days=365)
PLAYLIST_COUNT = 8
PLAYLIST_SONGS = 15
# What makes a database "not empty" for the demo: any document of these.
DATA_MODELS = (Artist, Song, Listener, PlayEvent, Playlist)
DEMO_ACCOUNTS = ((Role.admin, "admin@example.com"), (Role.editor, "editor@example.com"))
PARTNER_NAME = "demo partner"

HashPassword = Callable[[str], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: Role
    email: str
    password: str


@dataclass(frozen=True, slots=True)
class DemoReport:
    load: LoadReport
    accounts: tuple[DemoAccount, ...]
    partner_key: str
    playlist_ids: tuple[PydanticObjectId, ...]
    keyed_listeners: bool
    derived: DerivedReport
    plays_since: datetime
    plays_until: datetime
    elapsed_s: float


async def is_empty(db: Database) -> bool:
    """True when no collection the demo fills holds a single document."""
    for model in DATA_MODELS:
        if await db[model.Settings.name].find_one({}, projection={"_id": 1}) is not None:
            return False
    return True


def plays_window(now: datetime) -> tuple[datetime, datetime]:
    """The year before `now`, on whole hours: a rerun within the hour writes the same plays."""
    until = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return until - PLAYS_SPAN, until


def playlist_documents(seed: int, counts: Counts) -> list[Playlist]:
    """One public playlist per genre (the first `PLAYLIST_COUNT` with enough songs), each
    owned by a seeded listener: the same songs and owners for the same seed."""
    by_genre: dict[str, list[PydanticObjectId]] = {}
    for n in range(counts.songs):
        song = generate.song(seed, n, counts)
        by_genre.setdefault(song["genre"], []).append(PydanticObjectId(song["_id"]))
    genres = sorted(g for g, ids in by_genre.items() if len(ids) >= PLAYLIST_SONGS)
    playlists = []
    for n, genre in enumerate(genres[:PLAYLIST_COUNT]):
        rng = random.Random(f"{seed}:playlists:{n}")  # noqa: S311 - fake data
        owner, _ = generate.catalogue_key(seed, "listeners", rng.randrange(counts.listeners))
        playlist_id, created = generate.catalogue_key(seed, "playlists", n)
        playlists.append(
            Playlist(
                id=PydanticObjectId(playlist_id),
                created_at=created,
                updated_at=created,
                owner_id=PydanticObjectId(owner),
                name=f"Best of {genre}",
                visibility=Visibility.public,
                song_ids=rng.sample(by_genre[genre], PLAYLIST_SONGS),
            )
        )
    return playlists


async def _accounts(
    hash_password: HashPassword, pseudonyms: Pseudonyms | None
) -> list[DemoAccount]:
    """Accounts with fresh random passwords (never a well-known default): no consent, so
    they appear in no partner view."""
    made = []
    for role, email in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        listener = Listener(
            name=f"Demo {role.value.title()}",
            email=email,
            year_of_birth=1990,
            country="GB",
            consent_to_share_data=False,
            password_hash=await hash_password(password),
            role=role,
        )
        listener.id = PydanticObjectId()
        if pseudonyms is not None:
            listener.listener_key = pseudonyms.listener_key(listener.id)
        await listener.insert()
        made.append(DemoAccount(role, email, password))
    return made


async def load_demo(
    db: Database,
    derived: DerivedStores,
    *,
    hash_password: HashPassword,
    pseudonyms: Pseudonyms | None,
    now: datetime | None = None,
) -> DemoReport | None:
    """Load the demo into `db` and index it; None (nothing written) when `db` is not empty.

    `pseudonyms` None leaves listeners keyless (out of the partner views until
    `beatstream partners backfill-keys`). Binds the Beanie models to `db`.
    """
    if not await is_empty(db):
        return None
    started = time.perf_counter()
    since, until = plays_window(now or datetime.now(UTC))
    report = await load(
        db,
        DEMO_COUNTS,
        DEMO_SEED,
        derived=None,
        plays_since=since,
        plays_until=until,
        pseudonyms=pseudonyms,
    )
    playlists = playlist_documents(DEMO_SEED, DEMO_COUNTS)
    await Playlist.insert_many(playlists)
    accounts = await _accounts(hash_password, pseudonyms)
    partner_key, _ = await create_key(PARTNER_NAME, [ALL_VIEWS_SCOPE])
    # The rebuild a reset does: both indices from what was just written, then the bumps.
    rebuilt = await after_seed(db, derived, reset=True)
    return DemoReport(
        load=report,
        accounts=tuple(accounts),
        partner_key=partner_key,
        playlist_ids=tuple(p.id for p in playlists if p.id is not None),
        keyed_listeners=pseudonyms is not None,
        derived=rebuilt,
        plays_since=since,
        plays_until=until,
        elapsed_s=time.perf_counter() - started,
    )
