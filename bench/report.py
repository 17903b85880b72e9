"""Write a benchmark's result as `bench/results/<name>.json` plus a Markdown table."""

from __future__ import annotations

import json
import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, q in (0, 100]."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def write(name: str, result: dict[str, Any], table: list[dict[str, Any]]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), **result, "table": table}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    markdown = RESULTS / f"{name}.md"
    lines = [
        f"# {name}",
        "",
        f"Measured {payload['machine']['measured_at']} on {payload['machine']['cpus']} CPUs.",
        "",
    ]
    lines.extend(markdown_table(table))
    markdown.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return markdown


def markdown_table(table: list[dict[str, Any]]) -> list[str]:
    headers = list(table[0]) if table else []
    if not headers:
        return []
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(str(row[h]) for h in headers) + " |" for row in table),
    ]


def append_table(markdown: Path, intro: str, table: list[dict[str, Any]]) -> None:
    """A second table under the one `write` made (the JSON holds it already)."""
    lines = ["", intro, "", *markdown_table(table)]
    with markdown.open("a") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))
