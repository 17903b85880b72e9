"""Deterministic fake catalogue data: the one source for seeding and for test factories.

Every builder takes a `random.Random`, so `Random(42)` gives the same data every time.
Builders return API request bodies (plain dicts), which both the HTTP tests and the
seed loader feed through the same validation.
"""

from __future__ import annotations

import random
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
