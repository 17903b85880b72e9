"""`make vendor`: refresh the dashboard's third-party files from their npm packages.

The dashboard has no Node build step and loads nothing from a CDN: each library is one
file taken from its npm tarball at the pinned version below (`npm pack`, no install, no
scripts run), with the package's licence file beside it and a manifest recording the
version and SHA-256 of what was copied. Shipped files go to the package's static folder
(they are in the wheel); test-only ones (axe-core) go under `tests/`, never shipped.

To upgrade: change a version here, run `make vendor`, run the browser tests, commit.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "platform" / "beatstream" / "dashboard" / "static" / "vendor"
TEST_ONLY = ROOT / "tests" / "browser" / "vendor"


@dataclass(frozen=True)
class Vendored:
    package: str
    version: str
    files: dict[str, str]  # path inside the tarball (under package/) -> name written
    licence: str  # path of the licence file inside the tarball
    target: Path


LIBRARIES = [
    Vendored(
        "uplot",
        "1.6.31",
        {"dist/uPlot.iife.min.js": "uPlot.iife.min.js", "dist/uPlot.min.css": "uPlot.min.css"},
        "LICENSE",
        SHIPPED,
    ),
    Vendored("axe-core", "4.10.3", {"axe.min.js": "axe.min.js"}, "LICENSE", TEST_ONLY),
]


def _pack(package: str, version: str, into: Path) -> Path:
    """The package's tarball, as the npm registry serves it (no dependencies, no scripts)."""
    out = subprocess.run(
        ["npm", "pack", "--silent", f"{package}@{version}"],
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    )
    return into / out.stdout.strip().splitlines()[-1]


def vendor(library: Vendored, scratch: Path) -> dict[str, object]:
    tarball = _pack(library.package, library.version, scratch)
    library.target.mkdir(parents=True, exist_ok=True)
    hashes: dict[str, str] = {}
    with tarfile.open(tarball) as archive:
        wanted = {**library.files, library.licence: f"{library.package}.LICENSE"}
        for inner, name in wanted.items():
            member = archive.extractfile(f"package/{inner}")
            if member is None:
                raise SystemExit(f"{library.package}@{library.version} has no {inner}")
            data = member.read()
            (library.target / name).write_bytes(data)
            hashes[name] = hashlib.sha256(data).hexdigest()
    return {"package": library.package, "version": library.version, "sha256": hashes}


def main() -> None:
    manifests: dict[Path, list[dict[str, object]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for library in LIBRARIES:
            entry = vendor(library, Path(scratch))
            manifests.setdefault(library.target, []).append(entry)
            print(f"{library.package}@{library.version} -> {library.target.relative_to(ROOT)}")
    for target, entries in manifests.items():
        (target / "manifest.json").write_text(json.dumps(entries, indent=2) + "\n")


if __name__ == "__main__":
    main()
