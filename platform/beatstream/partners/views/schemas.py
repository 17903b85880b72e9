"""Query and row models of the third-party routes.

Row models are the allow-list: a view row passes through one of them before it is
serialised, so a field the pipeline still carries for its own use (`updated_at`,
`row_key`) or one added to a view later is never published by accident. Money is a
decimal string, as everywhere in the API: no float rounding on the partner's side.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from bson import Decimal128
from pydantic import BeforeValidator, ConfigDict, Field

from beatstream.common.inputs import InputModel, OutputModel
from beatstream.common.pagination import DEFAULT_LIMIT, Limit

FEED_START = "0"


class ViewFormat(StrEnum):
    JSON = "json"
    NDJSON = "ndjson"


class ViewQuery(InputModel):
    limit: Limit = DEFAULT_LIMIT
    cursor: str | None = Field(
        default=None, max_length=512, description="From `next_cursor` of the previous page."
    )
    format: ViewFormat = Field(
        default=ViewFormat.JSON,
        description="`json`: one page. `ndjson`: the whole view, one row per line, streamed.",
    )
    changes_since: str | None = Field(
        default=None,
        max_length=512,
        description=(
            '`listener_actions` only: "0" for everything, then the `next_cursor` of the last'
            " answer. Rows changed since, and `{listener_key, removed: true}` for listeners"
            " who left the view (delete them on your side)."
        ),
    )


def _decimal_string(value: Any) -> Any:
    if isinstance(value, Decimal128):
        value = value.to_decimal()
    if isinstance(value, Decimal | int):
        return str(value)
    return value


Money = Annotated[str, BeforeValidator(_decimal_string), Field(examples=["9.99"])]


class MonthlyAction(OutputModel):
    action: str
    month: str = Field(description="YYYY-MM (UTC): dates are never published to the day.")
    amount: Money | None


class ListenerActionsRow(OutputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "listener_key": "3q2-7wEjW0Ks1uKx5v9FzmGq",
                    "country": "IT",
                    "age_band": "1985-1989",
                    "actions": [
                        {"action": "premium subscription", "month": "2024-03", "amount": "9.99"}
                    ],
                }
            ]
        }
    )

    listener_key: str = Field(
        description="Pseudonymous and stable; not reversible without our secret."
    )
    country: str
    age_band: str = Field(description="Five birth years, e.g. 1985-1989.")
    actions: list[MonthlyAction]


class ListenerChange(ListenerActionsRow):
    removed: Literal[False] = False


class Removal(OutputModel):
    """The listener left the view (consent withdrawn or account erased): delete them."""

    listener_key: str
    removed: Literal[True] = True


class SubscriptionsRow(OutputModel):
    month: str = Field(description="YYYY-MM (UTC).")
    country: str
    plan: str = Field(description="The subscription action counted.")
    listeners: int = Field(description="Distinct listeners; never fewer than the minimum group.")
    actions: int
    revenue: Money


class PlayStatsRow(OutputModel):
    song_id: str
    country: str
    week: str = Field(description="The Monday (UTC) starting the ISO week, YYYY-MM-DD.")
    plays: int
    listeners: int = Field(description="Distinct listeners; never fewer than the minimum group.")


class ViewPage(OutputModel):
    view: str
    items: list[ListenerActionsRow] | list[SubscriptionsRow] | list[PlayStatsRow]
    next_cursor: str | None = Field(description="Pass as `cursor`; null on the last page.")


class ChangesPage(OutputModel):
    view: Literal["listener_actions"] = "listener_actions"
    items: list[ListenerChange | Removal]
    next_cursor: str = Field(
        description="Pass as `changes_since` next time; unchanged when nothing changed."
    )
