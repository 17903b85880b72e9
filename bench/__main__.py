"""`python -m bench [stack_up] [health_ready]`: run the named benchmarks (default: all)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("health_ready", "stack_up", "playlist_read", "song_models", "catalog_api")

names = sys.argv[1:] or list(BENCHMARKS)
for name in names:
    if name not in BENCHMARKS:
        sys.exit(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    importlib.import_module(f"bench.{name}").run()
