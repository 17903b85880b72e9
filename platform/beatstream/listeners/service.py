"""Listener and play rules: unique emails, appended subscription history, plays that
point at real listeners and songs, and a listener's erasure taking their plays along.

What other domains do on those events (a new listener gets its pseudonymous partner
key before it is stored; a listener who withdraws consent or is erased leaves the
partner views at once) is behind `ListenerHooks`, implemented in `beatstream.flows`:
this package imports no partner code, so partners may build on listeners."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from beanie import PydanticObjectId

from beatstream.auth.passwords import Passwords
from beatstream.auth.principals import Principal
from beatstream.auth.service import Reauthentication
from beatstream.auth.sessions import AccountStates
from beatstream.catalog.service import song_not_found
from beatstream.common.documents import utcnow
from beatstream.errors import ForbiddenError, InvalidInputError, NotFoundError
from beatstream.listeners import repository
from beatstream.listeners.documents import Listener, PlayEvent, SubscriptionAction
from beatstream.listeners.schemas import (
    ActionIn,
    ListenerCreate,
    ListenerUpdate,
    PlayBatch,
    PlayCreate,
)


class ListenerHooks(Protocol):
    """What a listener's life sets in motion elsewhere. One implementation,
    `beatstream.flows.ListenerFlows`, put on the app state by the lifespan."""

    def before_insert(self, listener: Listener) -> None:
        """Called on a new listener just before it is stored."""

    async def left(self, listener_key: str | None) -> None:
        """Called once consent is withdrawn or the listener is erased."""


def listener_not_found(listener_id: PydanticObjectId) -> NotFoundError:
    return NotFoundError(f"no listener with id {listener_id}")


async def get_listener(listener_id: PydanticObjectId) -> Listener:
    """The listener, or the 404 of an unknown id."""
    listener = await repository.get_listener(listener_id)
    if listener is None:
        raise listener_not_found(listener_id)
    return listener


def _action(data: ActionIn) -> SubscriptionAction:
    return SubscriptionAction(action=data.action, date=data.date or utcnow(), amount=data.amount)


# Listeners


async def register_listener(
    data: ListenerCreate, passwords: Passwords, hooks: ListenerHooks
) -> Listener:
    """A listener account: the role is always `listener` (only an operator grants more)."""
    listener = Listener(
        **data.model_dump(exclude={"actions", "password"}),
        actions=[_action(a) for a in data.actions],
        password_hash=await passwords.hash(data.password.get_secret_value()),
    )
    hooks.before_insert(listener)
    return await repository.insert_listener(listener)


async def update_listener(
    listener: Listener,
    data: ListenerUpdate,
    expected: int | None,
    hooks: ListenerHooks,
    reauth: Reauthentication,
) -> Listener:
    """Any update that sets consent to false counts as a withdrawal, whatever it was
    before: a spare removal costs a partner nothing, a missed one leaks a listener.

    A different email needs the caller's password again (checked before anything is
    written); resending the current one does not.
    """
    assert listener.id is not None
    changes = data.model_dump(exclude_unset=True, exclude={"current_password"})
    if "email" in changes and changes["email"] != listener.email:
        await reauth.confirm(data.current_password)
    updated = await repository.update_listener(listener.id, changes, expected)
    if updated is None:
        raise listener_not_found(listener.id)
    if changes.get("consent_to_share_data") is False:
        await hooks.left(updated.listener_key)
    return updated


async def add_action(listener: Listener, data: ActionIn, expected: int | None) -> Listener:
    assert listener.id is not None
    updated = await repository.push_action(listener.id, _action(data), expected)
    if updated is None:
        raise listener_not_found(listener.id)
    return updated


async def delete_listener(
    listener: Listener, expected: int | None, hooks: ListenerHooks, accounts: AccountStates
) -> None:
    """Erasure: the listener and every play of theirs (plays are personal data too).

    The erasure is logged before the plays are deleted: the play sync cannot see a
    deleted play, so the log is how their copies leave the search indices. The
    account's tokens are refused from the next request on.
    """
    assert listener.id is not None
    if not await repository.delete_listener(listener.id, expected):
        raise listener_not_found(listener.id)
    accounts.invalidate(listener.id)
    await repository.record_erasure(listener.id)
    await repository.delete_plays_of(listener.id)
    await hooks.left(listener.listener_key)


# Plays


async def _require_references(events: list[PlayCreate], prefix: str | None) -> None:
    """Every listener and song named exists: one `$in` query per collection.

    Unknown references are all named in one 422 (`events[3].song_id`, or plain
    `song_id` for a single play), before anything is written.
    """
    listeners = await repository.existing_listener_ids(e.listener_id for e in events)
    songs = await repository.existing_song_ids(e.song_id for e in events)
    problems: list[tuple[str, str]] = []
    for index, event in enumerate(events):
        where = f"{prefix}[{index}]." if prefix else ""
        if event.listener_id not in listeners:
            problems.append((f"{where}listener_id", f"no listener with id {event.listener_id}"))
        if event.song_id not in songs:
            problems.append((f"{where}song_id", f"no song with id {event.song_id}"))
    if problems:
        raise _unknown_references(problems)


def _unknown_references(problems: list[tuple[str, str]]) -> InvalidInputError:
    error = InvalidInputError(*problems[0], location="body")
    if len(problems) > 1:
        error.detail = "invalid input: " + ", ".join(field for field, _ in problems)
        error.extra["errors"] = [
            {"field": field, "in": "body", "message": message, "type": "value_error"}
            for field, message in problems
        ]
    return error


def _play(data: PlayCreate, received_at: datetime) -> PlayEvent:
    return PlayEvent(
        listener_id=data.listener_id,
        song_id=data.song_id,
        played_at=data.played_at or received_at,
        country=data.country,
        ms_played=data.ms_played,
    )


def _require_own_plays(events: list[PlayCreate], prefix: str | None, principal: Principal) -> None:
    """A listener records only their own plays (403 naming every other `listener_id`);
    an admin records anyone's (backfills, support). Checked before any store read."""
    fields = [
        f"{prefix}[{index}].listener_id" if prefix else "listener_id"
        for index, event in enumerate(events)
        if not principal.may_act_for(event.listener_id)
    ]
    if fields:
        raise ForbiddenError(
            "plays may only be recorded for the listener of the access token: " + ", ".join(fields),
            errors=[
                {
                    "field": field,
                    "in": "body",
                    "message": "not the listener of the access token",
                    "type": "forbidden",
                }
                for field in fields
            ],
        )


async def record_play(data: PlayCreate, principal: Principal) -> PlayEvent:
    _require_own_plays([data], None, principal)
    await _require_references([data], prefix=None)
    play = _play(data, utcnow())
    await repository.insert_plays([play])
    return play


async def record_plays(batch: PlayBatch, principal: Principal) -> int:
    """All or nothing for bad input: every reference is checked before the one insert."""
    _require_own_plays(batch.events, "events", principal)
    await _require_references(batch.events, prefix="events")
    received_at = utcnow()
    return await repository.insert_plays([_play(e, received_at) for e in batch.events])


async def require_song(song_id: PydanticObjectId) -> PydanticObjectId:
    if not await repository.existing_song_ids([song_id]):
        raise song_not_found(song_id)
    return song_id


async def plays_of_listener(
    listener_id: PydanticObjectId, limit: int, cursor: str | None
) -> tuple[list[PlayEvent], str | None]:
    """Newest first."""
    return await repository.plays_of_listener(listener_id, limit, cursor)


async def plays_of_song(
    song_id: PydanticObjectId, limit: int, cursor: str | None
) -> tuple[list[PlayEvent], str | None]:
    """Newest first."""
    return await repository.plays_of_song(song_id, limit, cursor)
