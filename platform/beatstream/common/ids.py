"""Object ids in paths: a malformed one is a 422 naming the parameter, never a 404/500."""

from __future__ import annotations

from beanie import PydanticObjectId

ObjectId = PydanticObjectId

__all__ = ["ObjectId"]
