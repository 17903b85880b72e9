"""Deterministic fake catalogue data: the one source for seeding and for test factories.

Every builder takes a `random.Random`, so `Random(42)` gives the same data every time.
Builders return API request bodies (plain dicts), which both the HTTP tests and the
seed loader feed through the same validation.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

GENRES = ("pop", "rock", "hip-hop", "funk", "soul", "jazz", "electronic", "indie", "latin", "r&b")
COUNTRIES = ("US", "GB", "IT", "MX", "DE", "FR", "BR", "JP", "ES", "SE", "NG", "IN")
_SYLLABLES = ("la", "mo", "ri", "ka", "zen", "tu", "vel", "no", "sha", "dro", "mi", "ax", "or")
_WORDS = (
    "night",
    "funk",
    "gold",
    "river",
    "fire",
    "heart",
    "city",
    "echo",
    "blue",
    "dance",
    "summer",
    "ghost",
    "paper",
    "neon",
    "wild",
    "home",
    "storm",
    "velvet",
    "glass",
    "sun",
)


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _title(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3))).title()


def artist_payload(rng: random.Random, **overrides: Any) -> dict[str, Any]:
    payload = {
        "name": f"{_name(rng, 2)} {_name(rng, 3)}",
        "country": rng.choice(COUNTRIES),
        "genres": rng.sample(GENRES, k=rng.randint(1, 3)),
    }
    return {**payload, **overrides}


def views_per_country(rng: random.Random) -> dict[str, int]:
    """Long-tailed popularity: most songs have few views in few countries."""
    countries = rng.sample(COUNTRIES, k=rng.randint(1, 5))
    return {c: int(rng.paretovariate(1.2) * 100) for c in countries}


def song_payload(rng: random.Random, artist_id: str, **overrides: Any) -> dict[str, Any]:
    payload = {
        "title": _title(rng),
        "artist_id": artist_id,
        "genre": rng.choice(GENRES),
        "duration_s": rng.randint(90, 420),
        "album": {"title": _title(rng), "release_year": rng.randint(1960, 2026)},
        "views_per_country": views_per_country(rng),
    }
    return {**payload, **overrides}


# Listeners and plays. Dates fall in a fixed past window (not "now"), so the same
# seed gives the same data on any day and never a date in the future.

_FIRST_NAMES = ("Ada", "Luca", "Maya", "Kenji", "Amara", "Sofia", "Omar", "Ines", "Noah", "Lea")
_LAST_NAMES = ("Rossi", "Smith", "Garcia", "Tanaka", "Okafor", "Muller", "Silva", "Dubois")
_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)
_WINDOW_DAYS = 10 * 365  # 2015-01-01 to late 2024
_PRICES = {"basic subscription": "4.99", "premium subscription": "9.99"}


def _instant(rng: random.Random, start: datetime = _EPOCH, days: int = _WINDOW_DAYS) -> datetime:
    return start + timedelta(seconds=rng.randrange(days * 86_400))


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def subscription_actions(rng: random.Random) -> list[dict[str, Any]]:
    """A plausible history: subscribe, sometimes upgrade or downgrade, sometimes leave
    (and maybe come back), in date order. Unsubscriptions carry no amount."""
    actions: list[dict[str, Any]] = []
    moment = _instant(rng, days=_WINDOW_DAYS // 2)
    subscribed = False
    for _ in range(rng.randint(0, 5)):
        if subscribed and rng.random() < 0.35:
            actions.append({"action": "unsubscription", "date": _iso(moment), "amount": None})
            subscribed = False
        else:
            kind = rng.choice(tuple(_PRICES))
            actions.append({"action": kind, "date": _iso(moment), "amount": _PRICES[kind]})
            subscribed = True
        moment += timedelta(days=rng.randint(20, 400))
    return actions


def listener_payload(rng: random.Random, **overrides: Any) -> dict[str, Any]:
    """A listener (personal data, all fake). The email ends in 32 random bits from `rng`,
    so emails from one seed are distinct in practice yet repeat run to run.

    `password` is for the API (`POST /v1/listeners`); the seed loader leaves it out
    and seeds accounts without one, so it never pays for a hash. It is drawn last,
    so every other field is what it was before accounts had passwords."""
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    payload = {
        "name": f"{first} {last}",
        "email": f"{first}.{last}.{rng.getrandbits(32):08x}@example.com".lower(),
        "year_of_birth": rng.randint(1945, 2008),
        "country": rng.choice(COUNTRIES),
        "consent_to_share_data": rng.random() < 0.6,
        "actions": subscription_actions(rng),
    }
    payload["password"] = f"pw-{rng.getrandbits(64):016x}"
    return {**payload, **overrides}


def play_payload(
    rng: random.Random, listener_id: str, song_id: str, **overrides: Any
) -> dict[str, Any]:
    """One play: mostly whole songs, some skipped within seconds."""
    skipped = rng.random() < 0.25
    payload = {
        "listener_id": listener_id,
        "song_id": song_id,
        "played_at": _iso(_instant(rng)),
        "country": rng.choice(COUNTRIES),
        "ms_played": rng.randint(0, 30_000) if skipped else rng.randint(90_000, 420_000),
    }
    return {**payload, **overrides}
