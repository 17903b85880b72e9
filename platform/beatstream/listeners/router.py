"""Thin HTTP layer for listeners and their plays: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import Field

from beatstream.auth.dependencies import (
    AUTH_RESPONSES,
    ROLE_RESPONSES,
    AccountStatesDep,
    CurrentPrincipal,
    PasswordsDep,
    ReauthDep,
    require_admin,
)
from beatstream.common.concurrency import ExpectedVersion, matches_if_none_match, set_etag
from beatstream.common.inputs import InputModel
from beatstream.common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from beatstream.listeners import service
from beatstream.listeners.dependencies import ExistingSongId, ListenerHooksDep, OwnedListener
from beatstream.listeners.documents import Listener, PlayEvent
from beatstream.listeners.schemas import (
    ActionIn,
    ListenerCreate,
    ListenerOut,
    ListenerUpdate,
    PlayBatch,
    PlayBatchResult,
    PlayCreate,
    PlayOut,
)

router = APIRouter()

IF_MATCH_DOC: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match named a version that is no longer current"}
}
# Someone else's listener is a 404, like a missing one: no 403 that would confirm it exists.
OWNER_DOC: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    404: {"description": "No such listener, or not the token's own (unless admin)"},
}
PLAYS_DOC: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    403: {"description": "A `listener_id` is not the token's listener (unless admin)"},
}
REAUTH_DOC: dict[int | str, dict[str, Any]] = {
    403: {"description": "`current_password` is wrong (named in `errors`)"},
    429: {"description": "Too many wrong passwords for this account from this address"},
}
EMAIL_CONFLICT_DOC: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another listener already has this email"}
}


class PlayPageQuery(InputModel):
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    cursor: str | None = Field(default=None, max_length=512, description="From `next_cursor`.")


def _listener_out(listener: Listener, response: Response) -> ListenerOut:
    set_etag(response, listener.version)
    return ListenerOut.model_validate(listener)


def _play_page(plays: list[PlayEvent], next_cursor: str | None) -> Page[PlayOut]:
    return Page[PlayOut](items=[PlayOut.model_validate(p) for p in plays], next_cursor=next_cursor)


# Listeners


@router.post(
    "/listeners",
    status_code=status.HTTP_201_CREATED,
    tags=["listeners"],
    responses=EMAIL_CONFLICT_DOC,
)
async def register_listener(
    data: ListenerCreate,
    response: Response,
    passwords: PasswordsDep,
    hooks: ListenerHooksDep,
) -> ListenerOut:
    """Open to anyone: this is sign-up. The account can then log in at `/v1/auth/token`."""
    listener = await service.register_listener(data, passwords, hooks)
    response.headers["Location"] = f"/v1/listeners/{listener.id}"
    return _listener_out(listener, response)


@router.get(
    "/listeners/{listener_id}",
    tags=["listeners"],
    response_model=ListenerOut,
    responses={
        304: {"description": "Not modified: the If-None-Match ETag is current"},
        **OWNER_DOC,
    },
)
async def get_listener(
    listener: OwnedListener,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> ListenerOut | Response:
    if matches_if_none_match(if_none_match, listener.version):
        return Response(
            status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": f'"{listener.version}"'}
        )
    return _listener_out(listener, response)


@router.patch(
    "/listeners/{listener_id}",
    tags=["listeners"],
    responses={**IF_MATCH_DOC, **EMAIL_CONFLICT_DOC, **OWNER_DOC, **REAUTH_DOC},
)
async def update_listener(
    listener: OwnedListener,
    data: ListenerUpdate,
    expected: ExpectedVersion,
    response: Response,
    hooks: ListenerHooksDep,
    reauth: ReauthDep,
) -> ListenerOut:
    """Setting `consent_to_share_data` to false removes the listener from every
    third-party view at once, cached answers included. A new `email` needs
    `current_password` (the signed-in account's): 422 without it, 403 if wrong."""
    updated = await service.update_listener(listener, data, expected, hooks, reauth)
    return _listener_out(updated, response)


@router.delete(
    "/listeners/{listener_id}",
    status_code=204,
    tags=["listeners"],
    responses={**IF_MATCH_DOC, **OWNER_DOC},
)
async def delete_listener(
    listener: OwnedListener,
    expected: ExpectedVersion,
    hooks: ListenerHooksDep,
    accounts: AccountStatesDep,
) -> None:
    """Erases the listener and all of their plays (and removes them from partner views);
    the account's tokens stop working."""
    await service.delete_listener(listener, expected, hooks, accounts)


@router.post(
    "/listeners/{listener_id}/actions", tags=["listeners"], responses={**IF_MATCH_DOC, **OWNER_DOC}
)
async def add_action(
    listener: OwnedListener, data: ActionIn, expected: ExpectedVersion, response: Response
) -> ListenerOut:
    """Appends one subscription event; the history is never rewritten."""
    return _listener_out(await service.add_action(listener, data, expected), response)


@router.get("/listeners/{listener_id}/plays", tags=["listeners", "plays"], responses=OWNER_DOC)
async def listener_plays(
    listener: OwnedListener, query: Annotated[PlayPageQuery, Query()]
) -> Page[PlayOut]:
    """The listener's plays, newest first."""
    assert listener.id is not None
    plays, next_cursor = await service.plays_of_listener(listener.id, query.limit, query.cursor)
    return _play_page(plays, next_cursor)


# Plays


@router.post("/plays", status_code=status.HTTP_201_CREATED, tags=["plays"], responses=PLAYS_DOC)
async def record_play(data: PlayCreate, principal: CurrentPrincipal) -> PlayOut:
    return PlayOut.model_validate(await service.record_play(data, principal))


@router.post(
    "/plays/batch", status_code=status.HTTP_201_CREATED, tags=["plays"], responses=PLAYS_DOC
)
async def record_plays(batch: PlayBatch, principal: CurrentPrincipal) -> PlayBatchResult:
    """1 to 500 plays, checked in full before one unordered insert: an invalid event
    (`events.3.ms_played`) or an unknown listener or song (`events[3].song_id`) is a
    422 naming it, and then nothing of the batch is stored."""
    return PlayBatchResult(inserted=await service.record_plays(batch, principal))


@router.get(
    "/songs/{song_id}/plays",
    tags=["plays"],
    dependencies=[Depends(require_admin)],
    responses=ROLE_RESPONSES,
)
async def song_plays(
    song_id: ExistingSongId, query: Annotated[PlayPageQuery, Query()]
) -> Page[PlayOut]:
    """The song's plays, newest first. Admin only: each play names its listener."""
    plays, next_cursor = await service.plays_of_song(song_id, query.limit, query.cursor)
    return _play_page(plays, next_cursor)
