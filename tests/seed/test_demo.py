"""The first-run demo (`seed.demo`): on an empty database every endpoint family answers
with data, through the app, against the real stores; a database with data is left alone."""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import AsyncElasticsearch
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.app import create_app
from beatstream.auth.passwords import Passwords
from beatstream.cache.store import ResponseCache
from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.settings import Settings, ThirdPartySettings
from beatstream.stores.clients import MongoDocument, RedisClient
from pipelines.derived import DerivedStores
from seed import generate
from seed.demo import DEMO_COUNTS, DEMO_SEED, DemoReport, is_empty, load_demo
from tests.fixtures.app import http_client, serving
from tests.fixtures.tokens import TEST_SECURITY

SECRET = "demo-test-pseudonym-secret-" + "p" * 32


async def demo_into(
    db: AsyncDatabase[MongoDocument],
    settings: Settings,
    es_client: AsyncElasticsearch,
    redis_client: RedisClient,
) -> DemoReport | None:
    cache = ResponseCache(redis_client, settings.redis.key_prefix)
    return await load_demo(
        db,
        DerivedStores(es_client, settings.elasticsearch, cache),
        hash_password=Passwords(TEST_SECURITY).hash,
        pseudonyms=Pseudonyms(SECRET.encode()),
    )


async def test_after_the_demo_every_endpoint_family_answers_with_data(
    settings: Settings,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    es_prefix: str,
    redis_client: RedisClient,
    redis_prefix: str,
) -> None:
    settings = settings.model_copy(
        update={"thirdparty": ThirdPartySettings(pseudonym_secret=SecretStr(SECRET))}
    )
    report = await demo_into(mongo_db, settings, es_client, redis_client)
    assert report is not None
    assert report.load.ok
    assert report.load.written["play_events"] == DEMO_COUNTS.plays
    assert report.plays_until <= datetime.now(UTC)

    async with serving(create_app(settings)) as transport, http_client(transport) as http:
        # Search: a word of the first demo song's title finds songs.
        word = generate.song(DEMO_SEED, 0, DEMO_COUNTS)["title"].split()[0]
        search = await http.get("/v1/search/songs", params={"q": word})
        assert search.status_code == 200, search.text
        assert search.json()["items"]

        top = await http.get("/v1/analytics/top-artists")
        assert top.status_code == 200, top.text
        assert len(top.json()["items"]) == 10

        # Plays fall in the year before now: the default window (the last 30 days) has some.
        plays = await http.get("/v1/analytics/plays")
        assert plays.status_code == 200, plays.text
        assert sum(bucket["plays"] for bucket in plays.json()["buckets"]) > 0

        # The partner view, with the demo's key: consenting listeners, keyed.
        partner = {"X-API-Key": report.partner_key}
        view = await http.get("/v1/thirdparty/listener_actions", headers=partner)
        assert view.status_code == 200, view.text
        assert view.json()["items"]

        # A public playlist, anonymously, its songs resolved.
        playlist = await http.get(f"/v1/playlists/{report.playlist_ids[0]}")
        assert playlist.status_code == 200, playlist.text
        assert len(playlist.json()["songs"]) > 0

        # The printed credentials sign in, with the printed role.
        for account in report.accounts:
            login = await http.post(
                "/v1/auth/token", data={"username": account.email, "password": account.password}
            )
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            me = await http.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert me.json()["role"] == account.role.value


async def test_a_database_with_data_is_left_alone(
    settings: Settings,
    mongo_db: AsyncDatabase[MongoDocument],
    es_client: AsyncElasticsearch,
    redis_client: RedisClient,
) -> None:
    await mongo_db.playlists.insert_one({"name": "somebody's"})
    assert not await is_empty(mongo_db)

    report = await demo_into(mongo_db, settings, es_client, redis_client)

    assert report is None
    assert sorted(await mongo_db.list_collection_names()) == ["playlists"]
    assert await mongo_db.playlists.count_documents({}) == 1
