"""Every instant a client sends is ISO 8601 with an offset: numbers and naive times are 422s."""

from __future__ import annotations

import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Union, get_args, get_origin

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, BeforeValidator, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from beatstream.app import create_app
from beatstream.common.instants import INSTANT_FORMAT_ERROR, Instant
from beatstream.settings import Settings

MISSING_ID = "6650f1c2a1b2c3d4e5f60718"
INSTANT = TypeAdapter(Instant)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("2026-01-05T10:00:00Z", datetime(2026, 1, 5, 10, tzinfo=UTC)),
        ("2026-01-05t10:00:00z", datetime(2026, 1, 5, 10, tzinfo=UTC)),
        ("2026-01-05T11:00:00+01:00", datetime(2026, 1, 5, 10, tzinfo=UTC)),
        ("2026-01-05T11:00:00+0100", datetime(2026, 1, 5, 10, tzinfo=UTC)),
        ("2026-01-05T10:00Z", datetime(2026, 1, 5, 10, tzinfo=UTC)),
        ("2026-01-05T10:00:00.25-00:30", datetime(2026, 1, 5, 10, 30, 0, 250_000, tzinfo=UTC)),
        (
            datetime(2026, 1, 5, 11, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 1, 5, 10, tzinfo=UTC),
        ),
    ],
)
def test_iso_8601_with_an_offset_is_read_as_utc(sent: object, expected: datetime) -> None:
    parsed = INSTANT.validate_python(sent)

    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "sent",
    [
        0.5,
        253402300800,
        "253402300800",
        "0.5",
        "2026-01-05",
        "2026-01-05T10:00:00",
        "2026-01-05 10:00:00Z",
        "yesterday",
        True,
        datetime(2026, 1, 5, 10),
    ],
)
def test_numbers_dates_and_naive_times_are_refused(sent: object) -> None:
    with pytest.raises(ValidationError) as refused:
        INSTANT.validate_python(sent)

    assert refused.value.errors()[0]["type"] == INSTANT_FORMAT_ERROR
    assert "ISO 8601" in refused.value.errors()[0]["msg"]


def test_an_instant_past_year_9999_in_utc_is_refused_not_a_crash() -> None:
    with pytest.raises(ValidationError, match="out of range"):
        INSTANT.validate_python("9999-12-31T23:59:59-01:00")


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "field"),
    [
        ("GET", "/v1/analytics/plays", {"to": "0.5"}, None, "to"),
        ("GET", "/v1/analytics/plays", {"from": "2024-01-01"}, None, "from"),
        ("GET", "/v1/admin/audit", {"until": "253402300800"}, None, "until"),
        ("GET", "/v1/admin/audit", {"since": "2026-01-02T00:00:00"}, None, "since"),
        (
            "POST",
            "/v1/plays",
            None,
            {
                "listener_id": MISSING_ID,
                "song_id": MISSING_ID,
                "country": "IT",
                "ms_played": 1,
                "played_at": 1_700_000_000,
            },
            "played_at",
        ),
        (
            "POST",
            "/v1/listeners",
            None,
            {
                "name": "Ada",
                "email": "ada@example.com",
                "password": "correct horse battery staple",
                "year_of_birth": 1990,
                "country": "GB",
                "consent_to_share_data": True,
                "actions": [{"action": "unsubscription", "date": 1_700_000_000}],
            },
            "actions[0].date",
        ),
    ],
)
async def test_every_datetime_a_client_sends_refuses_numbers_and_naive_times(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    params: dict[str, str] | None,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    response = await client.request(method, path, params=params, json=body)

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert error["type"] == INSTANT_FORMAT_ERROR
    assert "ISO 8601 date-time with an offset" in error["message"]


def _instant_validator(metadata: Any) -> bool:
    return any(
        isinstance(m, BeforeValidator) and m.func.__module__ == "beatstream.common.instants"
        for m in metadata
    )


def _datetimes(annotation: Any) -> Iterator[bool]:
    """One entry per datetime in `annotation`: True when it is an `Instant`."""
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        if base is datetime and _instant_validator(metadata):
            yield True
            return
        yield from _datetimes(base)
    elif annotation is datetime:
        yield False
    else:
        for arg in get_args(annotation):
            yield from _datetimes(arg)


def _kinds(info: FieldInfo) -> list[bool]:
    """Pydantic moves a top-level `Annotated`'s metadata onto the field; a nested one
    (`Instant | None`) stays in the annotation."""
    if info.annotation is datetime:
        return [_instant_validator(info.metadata)]
    return list(_datetimes(info.annotation))


def _datetime_fields(
    annotation: Any, where: str, seen: set[type]
) -> Iterator[tuple[str, FieldInfo]]:
    """Every field, in every model reachable from `annotation`, whose type holds a datetime."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for name, info in annotation.model_fields.items():
            if _kinds(info):
                yield f"{where}.{name}", info
            yield from _datetime_fields(info.annotation, f"{where}.{name}", seen)
    elif get_origin(annotation) in (list, dict, Union, types.UnionType, tuple):
        for arg in get_args(annotation):
            yield from _datetime_fields(arg, where, seen)


def test_every_client_sent_datetime_field_is_an_instant(settings: Settings) -> None:
    """A new route or field with a plain `datetime` fails here until it uses `Instant`."""
    found: list[str] = []
    loose: list[str] = []
    for route in iter_route_contexts(create_app(settings).routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        stack = [dependant]
        inputs: list[tuple[str, FieldInfo]] = []
        while stack:
            current = stack.pop()
            stack.extend(current.dependencies)
            for param in (*current.query_params, *current.header_params, *current.path_params):
                inputs.append((param.name, param.field_info))
            for param in current.body_params:
                inputs.append((param.name, param.field_info))
        for name, info in inputs:
            where = f"{route.path}:{name}"
            for field_where, field in [
                (where, info),
                *_datetime_fields(info.annotation, where, set()),
            ]:
                for is_instant in _kinds(field):
                    (found if is_instant else loose).append(field_where)

    assert loose == []
    # The walk does reach them (so an empty `loose` means something).
    assert {"/v1/analytics/plays:query.to", "/v1/admin/audit:query.since"} <= set(found)
    assert "/v1/plays/batch:batch.events.played_at" in found
