"""Property-based: whatever listeners exist, no third-party answer leaks anything.

Hypothesis generates listeners (random names and emails, birth years, countries,
consent flags, subscription histories with second-precise dates) and their plays,
writes them into the real MongoDB, withdraws some consents through the API, then
reads every view through every route and format: JSON pages, the NDJSON export, the
change feed. In every raw response body:

- no generated name or email (names carry a `~`, emails an `@`: neither byte may
  appear at all, so even a fragment would show);
- no day-precise date: no time of day anywhere, and the only YYYY-MM-DD values are
  `play_stats` week starts, each a Monday;
- no key of a listener who did not consent (or withdrew), and every consenting
  listener present in `listener_actions`;
- no aggregate row over fewer than k listeners, and `subscriptions_by_month` equal to
  a reference computed here in Python.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pymongo.asynchronous.database import AsyncDatabase

from beatstream.partners.service import create_key
from beatstream.settings import Settings
from beatstream.stores.clients import MongoDocument, RedisClient
from tests.beatstream.partners.views.data import PRICES, listener_document
from tests.fixtures.tokens import REGISTERED

K = 5
EXAMPLES = 25
PLANS = ("basic subscription", "premium subscription", "unsubscription")
DAY_DATE = re.compile(rb"\d{4}-\d{2}-\d{2}")
TIME_OF_DAY = re.compile(rb"\d{2}:\d{2}")

moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2024, 3, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))
listeners = st.fixed_dictionaries(
    {
        "name": st.text(min_size=1, max_size=30).map(lambda text: f"~{text}"),
        "email": st.from_regex(r"[a-z0-9.]{1,20}", fullmatch=True).map(lambda u: f"{u}@ex.org"),
        "year_of_birth": st.integers(1900, 2025),
        "country": st.sampled_from(("IT", "GB")),
        "consent": st.booleans(),
        "withdraws": st.booleans(),
        "actions": st.lists(st.tuples(st.sampled_from(PLANS), moments), max_size=3),
        "plays": st.lists(st.tuples(st.integers(0, 1), moments), max_size=4),
    }
)
examples_run = 0


def _month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def _reference_subscriptions(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"listeners": set(), "actions": 0, "revenue": Decimal(0)}
    )
    for person in people:
        for plan, date in person["actions"]:
            group = groups[(_month(date), person["country"], plan)]
            group["listeners"].add(person["_id"])
            group["actions"] += 1
            group["revenue"] += PRICES.get(plan, Decimal(0))
    return sorted(
        (
            {
                "month": month,
                "country": country,
                "plan": plan,
                "listeners": len(group["listeners"]),
                "actions": group["actions"],
                "revenue": str(group["revenue"]),
            }
            for (month, country, plan), group in groups.items()
            if len(group["listeners"]) >= K
        ),
        key=lambda row: (row["month"], row["country"], row["plan"]),
    )


async def _pull_all(client: httpx.AsyncClient, headers: dict[str, str], view: str) -> list[bytes]:
    """Every page of the view (limit 10), the NDJSON export, and for `listener_actions`
    every page of the feed from the start: each body raw, as the partner gets it."""
    path = f"/v1/thirdparty/{view}"
    bodies: list[bytes] = []
    walks: list[tuple[str, str | None]] = [("cursor", None)]
    if view == "listener_actions":
        walks.append(("changes_since", "0"))
    for name, position in walks:
        for _ in range(50):
            params: dict[str, Any] = {"limit": 10}
            if position is not None:
                params[name] = position
            response = await client.get(path, params=params, headers=headers)
            assert response.status_code == 200, response.text
            bodies.append(response.content)
            body = response.json()
            position = body["next_cursor"]
            if position is None or (name == "changes_since" and not body["items"]):
                break
    export = await client.get(path, params={"format": "ndjson"}, headers=headers)
    assert export.status_code == 200
    bodies.append(export.content)
    return bodies


def _rows(bodies: list[bytes]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for body in bodies[:-1]:
        rows += orjson.loads(body)["items"]
    rows += [orjson.loads(line) for line in bodies[-1].splitlines()]
    return rows


def _assert_nothing_personal(bodies: list[bytes], people: list[dict[str, Any]], view: str) -> None:
    for body in bodies:
        assert b"~" not in body
        assert b"@" not in body
        for person in people:
            assert person["name"].encode() not in body
            assert person["email"].encode() not in body
        assert not TIME_OF_DAY.search(body)
        for match in DAY_DATE.findall(body):
            assert view == "play_stats", match
            assert datetime.fromisoformat(match.decode()).weekday() == 0


@given(people=st.lists(listeners, max_size=24, unique_by=lambda person: person["email"]))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    # No explain phase: it reruns a failure hundreds of times against the real stores.
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
async def test_no_answer_ever_leaks_personal_data(
    client: httpx.AsyncClient,
    mongo_db: AsyncDatabase[MongoDocument],
    redis_client: RedisClient,
    settings: Settings,
    people: list[dict[str, Any]],
) -> None:
    global examples_run
    examples_run += 1
    for collection in ("listeners", "play_events", "consent_withdrawals"):
        # Not the account behind `client`'s token: without it the token is refused.
        await mongo_db[collection].delete_many(REGISTERED if collection == "listeners" else {})
    await redis_client.incr(f"{settings.redis.key_prefix}cache-gen:thirdparty")
    key, _ = await create_key(f"hypothesis{examples_run}", ["views:read"], 1_000_000)
    headers = {"X-API-Key": key}
    documents = [
        listener_document(
            name=person["name"],
            email=person["email"],
            year_of_birth=person["year_of_birth"],
            country=person["country"],
            consent=person["consent"],
            actions=person["actions"],
        )
        for person in people
    ]
    for person, document in zip(people, documents, strict=True):
        person["_id"] = document["_id"]
        person["key"] = document["listener_key"]
    if documents:
        await mongo_db.listeners.insert_many(documents)
    songs = [document["_id"] for document in documents[:2]]  # any two ids will do
    plays = [
        {
            "listener_id": person["_id"],
            "song_id": songs[song % len(songs)],
            "played_at": moment,
            "country": person["country"],
            "ms_played": 1000,
        }
        for person in people
        for song, moment in person["plays"]
    ]
    if plays:
        await mongo_db.play_events.insert_many(plays)

    before = await _pull_all(client, headers, "listener_actions")  # fills the cache
    for person in people:
        if person["consent"] and person["withdraws"]:
            response = await client.patch(
                f"/v1/listeners/{person['_id']}", json={"consent_to_share_data": False}
            )
            assert response.status_code == 200, response.text
    sharing = [p for p in people if p["consent"] and not p["withdraws"]]
    hidden = {p["key"] for p in people if p not in sharing}

    _assert_nothing_personal(before, people, "listener_actions")
    for view in ("listener_actions", "subscriptions_by_month", "play_stats"):
        bodies = await _pull_all(client, headers, view)
        _assert_nothing_personal(bodies, people, view)
        rows = _rows(bodies)
        if view == "listener_actions":
            live = {row["listener_key"] for row in rows if not row.get("removed")}
            assert live == {p["key"] for p in sharing}
            assert not live & hidden
        else:
            assert all(row["listeners"] >= K for row in rows)
            assert all(key.encode() not in body for key in hidden for body in bodies)
        if view == "subscriptions_by_month":
            pages = [row for body in bodies[:-1] for row in orjson.loads(body)["items"]]
            assert pages == _reference_subscriptions(sharing)


def test_property_examples_ran() -> None:
    """Runs after the property test in file order: it really generated its examples."""
    assert examples_run >= EXAMPLES // 2, examples_run
