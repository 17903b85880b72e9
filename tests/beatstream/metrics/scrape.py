"""Read a `/metrics` page into samples, and the change of one sample between two reads."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(http: httpx.AsyncClient, path: str = "/metrics") -> Samples:
    response = await http.get(path)
    assert response.status_code == 200, response.text
    return parse(response.text)


def delta(after: Samples, before: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def series(samples: Samples, name: str, **labels: str) -> list[dict[str, str]]:
    """The label sets of `name`'s samples that carry every given label."""
    wanted = set(labels.items())
    return [dict(key) for sample, key in samples if sample == name and wanted <= key]
