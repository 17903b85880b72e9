"""A listener's profile, history and plays are theirs (and admins'); to anyone else
they do not exist. Plays can only be recorded for the token's own listener."""

from __future__ import annotations

import random
from typing import Any

import httpx
from beanie import PydanticObjectId
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.auth.principals import Role
from beatstream.stores.clients import MongoDocument
from seed.builders import play_payload
from tests.fixtures.auth import AsRole, ListenerClient
from tests.fixtures.catalog import Factory


async def test_a_listener_is_a_404_to_other_listeners_and_editors(
    as_role: AsRole,
    anon_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    make_listener: Factory,
    make_play: Factory,
) -> None:
    me = await make_listener()
    await make_play(listener_id=me["id"])
    missing_id = str(PydanticObjectId())

    for path in ("", "/plays"):
        url = f"/v1/listeners/{me['id']}{path}"
        assert (await as_role(Role.listener, me["id"]).get(url)).status_code == 200
        assert (await client.get(url)).status_code == 200
        assert (await anon_client.get(url)).status_code == 401
        for other in (as_role(Role.listener), as_role(Role.editor)):
            refused = await other.get(url)
            absent = await other.get(f"/v1/listeners/{missing_id}{path}")
            assert refused.status_code == absent.status_code == 404
            assert refused.json()["detail"] == f"no listener with id {me['id']}"
            assert absent.json()["detail"] == f"no listener with id {missing_id}"


async def test_a_batch_naming_another_listener_is_refused_by_field_and_writes_nothing(
    listener_client: ListenerClient,
    make_listener: Factory,
    make_song: Factory,
    rng: random.Random,
    mongo_db: AsyncDatabase[MongoDocument],
) -> None:
    me, someone = await make_listener(), await make_listener()
    song = await make_song()
    events = [
        play_payload(rng, me["id"], song["id"]),
        play_payload(rng, someone["id"], song["id"]),
        play_payload(rng, me["id"], song["id"]),
        play_payload(rng, str(PydanticObjectId()), song["id"]),
    ]

    response = await listener_client(me).post("/v1/plays/batch", json={"events": events})

    assert response.status_code == 403
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/forbidden")
    assert [e["field"] for e in body["errors"]] == [
        "events[1].listener_id",
        "events[3].listener_id",
    ]
    assert await mongo_db.play_events.count_documents({}) == 0


async def test_a_single_play_for_another_listener_names_the_field(
    listener_client: ListenerClient,
    make_listener: Factory,
    make_song: Factory,
    rng: random.Random,
) -> None:
    me, someone = await make_listener(), await make_listener()
    song = await make_song()
    as_me = listener_client(me)

    refused = await as_me.post("/v1/plays", json=play_payload(rng, someone["id"], song["id"]))
    mine = await as_me.post("/v1/plays", json=play_payload(rng, me["id"], song["id"]))

    assert refused.status_code == 403
    assert [e["field"] for e in refused.json()["errors"]] == ["listener_id"]
    assert mine.status_code == 201


async def test_an_admin_records_plays_for_anyone(
    client: httpx.AsyncClient, make_listener: Factory, make_song: Factory, rng: random.Random
) -> None:
    listeners = [await make_listener() for _ in range(2)]
    song = await make_song()
    events = [play_payload(rng, listener["id"], song["id"]) for listener in listeners]

    response = await client.post("/v1/plays/batch", json={"events": events})

    assert response.status_code == 201
    assert response.json() == {"inserted": 2}


async def test_a_songs_plays_are_for_admins_only(
    as_role: AsRole,
    anon_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    make_play: Factory,
) -> None:
    """Each play names its listener: personal data, not catalogue."""
    play = await make_play()
    url = f"/v1/songs/{play['song_id']}/plays"

    assert (await client.get(url)).status_code == 200
    assert (await anon_client.get(url)).status_code == 401
    assert (await as_role(Role.listener, play["listener_id"]).get(url)).status_code == 403
    assert (await as_role(Role.editor).get(url)).status_code == 403
