"""Optimistic concurrency: a document's `version` is its ETag; `If-Match` guards writes.

Each write increments `version` in the same atomic update that checks it, so two
clients that read version 3 cannot both write: the second gets 412 and re-reads.

A read that embeds other documents (a playlist with its songs) has a body that changes
when they change, so its ETag cannot be the version alone (RFC 9110 §8.8.3: one strong
validator, one representation): it is `"<version>-<digest>"`, the digest naming the
embedded documents and their versions (`representation_etag`). A write given that tag
in `If-Match` compares its version part only (`parse_if_match(..., representation=True)`):
a write's precondition is the written document's own state, and songs edited elsewhere
must not make a playlist un-editable.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Header, Response

from beatstream.cache.http import etag_matches
from beatstream.errors import InvalidInputError

# 16 hex digits (64 bits of BLAKE2b): enough that two bodies of one playlist version
# never share a tag by accident, short enough to read in a log line.
DIGEST_BYTES = 8


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def representation_etag(version: int, embedded: Iterable[tuple[object, int | None]]) -> str:
    """The ETag of a body showing a document at `version` and, in this order, the
    documents `embedded` as (id, version), None for one that no longer exists.

    Computed once when the answer is built (and kept with it), never per request."""
    digest = hashlib.blake2b(digest_size=DIGEST_BYTES)
    for item_id, item_version in embedded:
        digest.update(f"{item_id}:{'-' if item_version is None else item_version};".encode())
    return f'"{version}-{digest.hexdigest()}"'


# One ETag (optionally weak) or `*`: what `parse_if_match` accepts, said in the schema
# and enforced before it. At most 18 digits: a version beyond int64 cannot match, and
# MongoDB could not even compare it. `IF_MATCH_PATTERN` also takes a representation's
# tag (`"3-<16 hex digits>"`), for documents whose reads embed others (playlists);
# `IF_MATCH_VERSION_PATTERN` only the plain version every other document answers.
# Both are linear: no quantified group inside another.
_VERSION = "[0-9]{1,18}"
_DIGEST = f"-[0-9a-f]{{{DIGEST_BYTES * 2}}}"
IF_MATCH_VERSION_PATTERN = rf'^\s*(\*|(W/)?"{_VERSION}")\s*$'
IF_MATCH_PATTERN = rf'^\s*(\*|(W/)?"{_VERSION}({_DIGEST})?")\s*$'
_TAG = re.compile(rf'(?:W/)?"({_VERSION})({_DIGEST})?"')


def parse_if_match(if_match: str | None, *, representation: bool = False) -> int | None:
    """The version the client expects, or None when it did not ask for a check.

    With `representation`, a read's `"<version>-<digest>"` tag is accepted too and
    only its version is compared: the digest names embedded documents, which a write
    to this one neither checks nor changes."""
    if if_match is None or if_match.strip() == "*":
        return None
    tags = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    if len(tags) != 1:
        raise InvalidInputError("If-Match", "give exactly one ETag or *", location="header")
    match = _TAG.fullmatch(tags[0])
    if match is None or (match[2] is not None and not representation):
        expected = (
            'expected an ETag such as "3" or "3-0123456789abcdef"'
            if representation
            else 'expected an ETag such as "3"'
        )
        raise InvalidInputError("If-Match", expected, location="header")
    return int(match[1])


def matches_if_none_match(if_none_match: str | None, version: int) -> bool:
    return etag_matches(if_none_match, etag(version))


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            description='Only write if the current ETag is this one (`"3"`), or `*`.',
            pattern=IF_MATCH_VERSION_PATTERN,
        ),
    ] = None,
) -> int | None:
    """`parse_if_match` as an async dependency (no thread-pool hop per request)."""
    return parse_if_match(if_match)


async def expected_base_version(
    if_match: Annotated[
        str | None,
        Header(
            description=(
                "Only write if the document's version is this ETag's: the plain one a "
                'write answers (`"3"`), the one its read answers (`"3-0123456789abcdef"`, '
                "whose version part `3` alone is compared: embedded documents changing "
                "elsewhere never block a write), or `*`."
            ),
            pattern=IF_MATCH_PATTERN,
        ),
    ] = None,
) -> int | None:
    """`parse_if_match` for a document whose read embeds others (its ETag has a digest)."""
    return parse_if_match(if_match, representation=True)


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
ExpectedBaseVersion = Annotated[int | None, Depends(expected_base_version)]
