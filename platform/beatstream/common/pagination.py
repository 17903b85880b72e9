"""Keyset (cursor) pagination: stable while documents are inserted, no skip/offset cost.

A page is sorted on one field plus `_id` as a tie-breaker; the cursor carries the last
item's values for both, so the next page starts strictly after it whatever was
inserted meanwhile. Cursors are opaque to clients (base64url of a small JSON) and
bound to the sort they were made for.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from beanie import SortDirection
from bson import ObjectId
from pydantic import BaseModel, Field

from beatstream.common.inputs import InputModel
from beatstream.errors import InvalidInputError

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Items per page (1-100).")]


class PageQuery(InputModel):
    """`?limit=&cursor=`; subclasses add their filters and sorts."""

    limit: Limit = DEFAULT_LIMIT
    cursor: str | None = Field(default=None, max_length=512, description="From `next_cursor`.")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


@dataclass(frozen=True, slots=True)
class SortSpec:
    """A public sort name (`-created_at`) and the document field it orders by."""

    name: str
    field: str
    descending: bool

    @property
    def mongo_sort(self) -> list[tuple[str, SortDirection]]:
        direction = SortDirection.DESCENDING if self.descending else SortDirection.ASCENDING
        return [(self.field, direction), ("_id", direction)]


def encode_cursor(sort: SortSpec, value: Any, last_id: ObjectId) -> str:
    if isinstance(value, datetime):
        encoded: Any = {"dt": value.isoformat()}
    else:
        encoded = value
    raw = orjson.dumps({"s": sort.name, "v": encoded, "id": str(last_id)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortSpec) -> tuple[Any, ObjectId]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if payload["s"] != sort.name:
            raise InvalidInputError(
                "cursor", f"this cursor belongs to sort {payload['s']!r}", location="query"
            )
        value = payload["v"]
        if isinstance(value, Mapping):
            value = datetime.fromisoformat(str(value["dt"]))
        elif value is not None and not isinstance(value, str | int | float):
            raise ValueError("cursor value has an unexpected type")
        return value, ObjectId(payload["id"])
    except InvalidInputError:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise InvalidInputError("cursor", "not a cursor this API issued", location="query") from exc
    except Exception as exc:  # bson.errors.InvalidId and friends
        raise InvalidInputError("cursor", "not a cursor this API issued", location="query") from exc


def after_cursor(sort: SortSpec, value: Any, last_id: ObjectId) -> dict[str, Any]:
    """The filter for items strictly after (value, last_id) in `sort` order."""
    op = "$lt" if sort.descending else "$gt"
    return {"$or": [{sort.field: {op: value}}, {sort.field: value, "_id": {op: last_id}}]}


def field_value(document: Mapping[str, Any], dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value
