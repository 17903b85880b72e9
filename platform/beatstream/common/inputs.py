"""The base of every request body: unknown fields refused, operator keys refused.

Typed fields already stop `{"title": {"$ne": null}}` (a dict is not a string), but
free-form mappings (view counts per country, say) would let a `$` or dotted key
through to MongoDB; refusing them here, for every body, names the key in the 422.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from beanie import PydanticObjectId
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

MAX_STRING_LENGTH = 2_000
OPERATOR_KEY_ERROR = "operator_key"


def find_operator_key(value: Any, path: str = "") -> str | None:
    """The path of the first key starting with `$` or containing `.`, or None."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (key.startswith("$") or "." in key):
                return here
            found = find_operator_key(item, here)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_operator_key(item, f"{path}[{index}]")
            if found:
                return found
    return None


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_STRING_LENGTH)

    @model_validator(mode="before")
    @classmethod
    def _no_operator_keys(cls, data: Any) -> Any:
        found = find_operator_key(data)
        if found:
            raise PydanticCustomError(
                OPERATOR_KEY_ERROR,
                "key {key!r} is not allowed: keys may not start with '$' or contain '.'",
                {"key": found},
            )
        return data


class OutputModel(BaseModel):
    """Responses list their fields explicitly; anything else on the document stays home."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)


DocumentId = Annotated[
    PydanticObjectId,
    Field(validation_alias=AliasChoices("id", "_id"), description="24 hex digits."),
]
"""An output `id` filled from a Beanie document (`id`) or a raw MongoDB row (`_id`)."""


class PatchModel(InputModel):
    """A partial update: only the fields sent change, at least one must be sent, and none
    may be null (a PATCH that nulls a required field would corrupt the document)."""

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        nulled = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if nulled:
            raise ValueError(f"fields may not be set to null: {', '.join(nulled)}")
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Say what the validator above enforces: no field is nullable (the `| None` of
        each field means "may be left out"), and at least one is sent."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        for field in schema.get("properties", {}).values():
            branches = field.get("anyOf", [])
            if {"type": "null"} in branches:
                rest = [branch for branch in field.pop("anyOf") if branch != {"type": "null"}]
                field.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
                field.pop("default", None)
        schema["minProperties"] = 1
        return schema
