"""The index layer on the real Elasticsearch: versioned indices behind aliases."""

from __future__ import annotations

import random

from elasticsearch import AsyncElasticsearch

from beatstream.search.indices import (
    SONGS,
    ensure_search_indices,
    ensure_songs_index,
    plays_alias,
    plays_index,
)
from beatstream.search.repository import bulk_index_songs
from beatstream.settings import Settings
from tests.fixtures.search import song_row


async def test_ensure_creates_the_versioned_index_behind_its_alias_once(
    es_client: AsyncElasticsearch, settings: Settings, es_prefix: str
) -> None:
    await ensure_search_indices(es_client, settings.elasticsearch)
    await ensure_search_indices(es_client, settings.elasticsearch)

    targets = list((await es_client.indices.get_alias(name=SONGS.alias(es_prefix))).body)
    assert len(targets) == 1
    assert SONGS.is_current(es_prefix, targets[0])
    mapping = await es_client.indices.get_mapping(index=targets[0])
    assert mapping[targets[0]]["mappings"]["dynamic"] == "strict"


async def test_an_older_version_is_migrated_and_the_alias_swapped(
    es_client: AsyncElasticsearch, settings: Settings, es_prefix: str, rng: random.Random
) -> None:
    old = f"{es_prefix}-songs-v0"
    alias = SONGS.alias(es_prefix)
    await es_client.indices.create(index=old, aliases={alias: {"is_write_index": True}})
    rows = [song_row(rng) for _ in range(25)]
    outcome = await bulk_index_songs(es_client, alias, rows, refresh=True)
    assert outcome.indexed == 25

    await ensure_songs_index(es_client, settings.elasticsearch)

    targets = list((await es_client.indices.get_alias(name=alias)).body)
    assert len(targets) == 1
    assert SONGS.is_current(es_prefix, targets[0])
    assert (await es_client.count(index=alias))["count"] == 25
    assert not await es_client.indices.exists(index=old)


async def test_the_strict_mapping_rejects_unknown_fields_and_bulk_reports_each(
    es_client: AsyncElasticsearch, settings: Settings, es_prefix: str, rng: random.Random
) -> None:
    await ensure_search_indices(es_client, settings.elasticsearch)
    good = song_row(rng)
    bad = song_row(rng, views_per_country={"XX": 3})  # not an ISO country: no such field

    outcome = await bulk_index_songs(es_client, SONGS.alias(es_prefix), [good, bad], refresh=True)

    assert outcome.indexed == 1
    assert [failed_id for failed_id, _ in outcome.failed] == [str(bad["_id"])]
    assert "strict" in outcome.failed[0][1]


async def test_monthly_play_indices_take_the_template_and_the_read_alias(
    es_client: AsyncElasticsearch, settings: Settings, es_prefix: str
) -> None:
    await ensure_search_indices(es_client, settings.elasticsearch)
    index = plays_index(es_prefix, 2026, 1)

    await es_client.index(
        index=index,
        document={
            "listener_id": "l",
            "song_id": "s",
            "country": "IT",
            "played_at": "2026-01-05T10:00:00Z",
            "ms_played": 1000,
        },
        refresh=True,
    )

    assert (await es_client.count(index=plays_alias(es_prefix)))["count"] == 1
    mapping = await es_client.indices.get_mapping(index=index)
    assert mapping[index]["mappings"]["properties"]["played_at"]["type"] == "date"


async def test_indices_get_a_replica_where_a_second_node_can_hold_it(
    es_client: AsyncElasticsearch, settings: Settings, es_prefix: str
) -> None:
    """`replicas=auto` (the default): one replica on a cluster, none on a single node,
    and the cluster goes green either way (a replica with nowhere to go would be yellow).
    The monthly play indices get theirs from the template."""
    await ensure_search_indices(es_client, settings.elasticsearch)
    await es_client.index(
        index=plays_index(es_prefix, 2026, 3),
        document={"song_id": "s", "listener_id": "l", "played_at": "2026-03-01T00:00:00Z"},
        refresh=True,
    )
    nodes = int((await es_client.cluster.health())["number_of_data_nodes"])
    indices = f"{es_prefix}-*"

    health = await es_client.cluster.health(
        index=indices, wait_for_status="green", wait_for_active_shards="all", timeout="30s"
    )
    found = await es_client.indices.get_settings(index=indices, name="index.number_of_replicas")

    assert not health["timed_out"]
    expected = min(1, nodes - 1)
    assert {i: s["settings"]["index"]["number_of_replicas"] for i, s in found.items()} == {
        i: str(expected) for i in found
    }
    assert len(found) == 2
