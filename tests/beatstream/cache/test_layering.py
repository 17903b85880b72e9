"""`beatstream.cache` is infrastructure: every domain depends on it, so it must import none."""

from __future__ import annotations

import ast
from pathlib import Path

import beatstream

DOMAINS = {
    "admin",
    "analytics",
    "auth",
    "catalog",
    "listeners",
    "partners",
    "playlists",
    "search",
    "thirdparty",
}
CACHE = Path(beatstream.__file__).parent / "cache"


def _imported(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_the_cache_package_imports_no_domain_package() -> None:
    offending = {
        f"{path.name}: {module}"
        for path in sorted(CACHE.glob("*.py"))
        for module in _imported(path)
        if module.startswith("beatstream.") and module.split(".")[1] in DOMAINS
    }
    assert offending == set()
