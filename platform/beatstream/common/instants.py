"""The one datetime type for every instant a client sends, in a query or a body.

Pydantic's lax datetime accepts far more than a client should send: numbers read as
Unix timestamps (`to=0.5`, `until=253402300800`), bare dates, and date-times without
an offset (read as UTC or as local time, depending on who reads them). A number is
almost always a bug on the caller's side and a time without an offset is ambiguous,
so both are refused with a 422 naming the field and the expected form. What passes
is converted to UTC, the zone every stored time is in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

INSTANT_FORMAT_ERROR = "datetime_format"
INSTANT_RANGE_ERROR = "datetime_range"
EXPECTED_INSTANT = (
    "an ISO 8601 date-time with an offset, such as 2026-01-05T10:00:00Z "
    "or 2026-01-05T11:00:00+01:00"
)
# Date, `T`, hours and minutes, optional seconds and fraction, then `Z` or `±hh[:]mm`.
_ISO_WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})"
)


def _iso_with_offset(value: Any) -> Any:
    """Only a string of the one accepted form reaches pydantic's datetime parser.

    An aware `datetime` passes too: that is Python code building a query, not a client.
    """
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str) and _ISO_WITH_OFFSET.fullmatch(value):
        return value
    raise PydanticCustomError(
        INSTANT_FORMAT_ERROR, "expected {expected}", {"expected": EXPECTED_INSTANT}
    )


def _as_utc(value: datetime) -> datetime:
    """`9999-12-31T23:59:59-01:00` parses but has no UTC equivalent: a 422, not a 500."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            INSTANT_RANGE_ERROR, "out of range: the instant must fall within years 1 to 9999 UTC"
        ) from None


Instant = Annotated[
    datetime,
    BeforeValidator(_iso_with_offset),
    AfterValidator(_as_utc),
    Field(examples=["2026-01-05T10:00:00Z"]),
]
"""An instant as a client sends it: ISO 8601 with `Z` or an offset; returned in UTC."""
