"""Path-parameter dependencies: a malformed id is a 422, a well-formed unknown one (or
someone else's) a 404. And the listener hooks the lifespan put on the app state."""

from __future__ import annotations

from typing import Annotated

from beanie import PydanticObjectId
from fastapi import Depends, Path

from beatstream.auth.dependencies import CurrentPrincipal
from beatstream.listeners import service
from beatstream.listeners.documents import Listener
from beatstream.listeners.service import ListenerHooks
from beatstream.state import get_listener_hooks

ListenerId = Annotated[PydanticObjectId, Path(description="The listener's id (24 hex digits).")]
SongId = Annotated[PydanticObjectId, Path(description="The song's id (24 hex digits).")]


async def valid_listener_id(listener_id: ListenerId) -> Listener:
    return await service.get_listener(listener_id)


async def owned_listener(listener_id: ListenerId, principal: CurrentPrincipal) -> Listener:
    """The listener, to themself or an admin; to anyone else the same 404 as a missing
    one, decided before any read, so neither the answer nor its timing leaks existence."""
    if not principal.may_act_for(listener_id):
        raise service.listener_not_found(listener_id)
    return await valid_listener_id(listener_id)


async def existing_song_id(song_id: SongId) -> PydanticObjectId:
    """Only the id: listing a song's plays needs to know it exists, not to load it."""
    return await service.require_song(song_id)


OwnedListener = Annotated[Listener, Depends(owned_listener)]
ExistingSongId = Annotated[PydanticObjectId, Depends(existing_song_id)]


ListenerHooksDep = Annotated[ListenerHooks, Depends(get_listener_hooks)]
