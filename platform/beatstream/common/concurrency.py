"""Optimistic concurrency: a document's `version` is its ETag; `If-Match` guards writes.

Each write increments `version` in the same atomic update that checks it, so two
clients that read version 3 cannot both write: the second gets 412 and re-reads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Response

from beatstream.cache.http import etag_matches
from beatstream.errors import InvalidInputError


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def parse_if_match(if_match: str | None) -> int | None:
    """The version the client expects, or None when it did not ask for a check."""
    if if_match is None or if_match.strip() == "*":
        return None
    tags = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    if len(tags) != 1:
        raise InvalidInputError("If-Match", "give exactly one ETag or *", location="header")
    tag = tags[0].removeprefix("W/")
    if not (tag.startswith('"') and tag.endswith('"') and tag[1:-1].isdigit()):
        raise InvalidInputError("If-Match", 'expected an ETag such as "3"', location="header")
    return int(tag[1:-1])


def matches_if_none_match(if_none_match: str | None, version: int) -> bool:
    return etag_matches(if_none_match, etag(version))


# One ETag (optionally weak) or `*`: what `parse_if_match` accepts, said in the schema
# and enforced before it. At most 18 digits: a version beyond int64 cannot match, and
# MongoDB could not even compare it.
IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"[0-9]{1,18}")\s*$'


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            description='Only write if the current ETag is this one (`"3"`), or `*`.',
            pattern=IF_MATCH_PATTERN,
        ),
    ] = None,
) -> int | None:
    """`parse_if_match` as an async dependency (no thread-pool hop per request)."""
    return parse_if_match(if_match)


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
