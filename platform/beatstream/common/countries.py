"""ISO 3166-1 alpha-2 country codes: the only keys view counts and filters accept."""

from __future__ import annotations

from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field

COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)


def _known_country(code: str) -> str:
    upper = code.upper()
    if upper not in COUNTRY_CODES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return upper


CountryCode = Annotated[
    str,
    Field(min_length=2, max_length=2, examples=["IT"]),
    AfterValidator(_known_country),
]
