"""ISO 3166-1 alpha-2 country codes: the only keys view counts and filters accept."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field

COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)


def _alternation(codes: list[str]) -> str:
    """`AD|AE|AF` -> `A[DEF]`: the same set, one group per first letter."""
    return "|".join(
        first + "[" + "".join(code[1] for code in group) + "]"
        for first, group in groupby(sorted(codes), key=lambda code: code[0])
    )


# Exactly the codes, upper case (canonical) or lower case (`?country=it`), never mixed.
# A pattern rather than an enum of ~500 spellings: the OpenAPI document says the same
# set in one line, and a client generated from it accepts exactly what the server does.
COUNTRY_PATTERN = (
    "^(?:"
    + _alternation(sorted(COUNTRY_CODES))
    + "|"
    + _alternation(sorted(code.lower() for code in COUNTRY_CODES))
    + ")$"
)


_ACCEPTED = COUNTRY_CODES | {code.lower() for code in COUNTRY_CODES}


def _known_country(code: str) -> str:
    """The check the pattern describes, with an error that names the code, not the regex."""
    if code not in _ACCEPTED:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code.upper()


CountryCode = Annotated[
    str,
    Field(
        examples=["IT"],
        description="ISO 3166-1 alpha-2, upper or lower case; answers use upper case.",
        json_schema_extra={"type": "string", "pattern": COUNTRY_PATTERN},
    ),
    AfterValidator(_known_country),
]
