"""`python -m bench [name ...]`: run the named benchmarks (default: all of them).

A benchmark is any module in this folder with a `run()` function; no list to keep.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

HELPERS = {"support", "report"}
BENCHMARKS = sorted(
    info.name
    for info in pkgutil.iter_modules([str(Path(__file__).parent)])
    if info.name not in HELPERS and not info.name.startswith("_")
)

names = sys.argv[1:] or BENCHMARKS
for name in names:
    if name not in BENCHMARKS:
        sys.exit(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    importlib.import_module(f"bench.{name}").run()
