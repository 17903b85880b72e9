"""Refuse query strings shaped like MongoDB operators (`?title[$ne]=`, `?$where=`, `?a.b=`).

FastAPI would ignore such parameters, but a client sending them is probing for
operator injection or is broken; either way a 422 naming the key is the honest
answer. Free-text values (a search for "$uicideboy$") are allowed: values are only
ever used as literals, never parsed into operators.
"""

from __future__ import annotations

from fastapi import Request

from beatstream.errors import InvalidInputError


async def reject_operator_query_keys(request: Request) -> None:
    for key in request.query_params:
        if key.startswith("$") or "." in key or "[" in key or "]" in key:
            raise InvalidInputError(
                key,
                "query keys may not start with '$' or contain '.', '[' or ']'",
                location="query",
            )
