"""Vendor the Swagger UI and ReDoc assets that /docs and /redoc serve (`make vendor`).

The pages must work without internet, so the scripts and styles live in the package
(`platform/beatstream/apidocs/assets/`), taken from the npm packages at the pinned
versions below with `npm pack` (npm checks each tarball's registry integrity), with
their licences beside them. `manifest.json` records each package's version and
integrity and each file's SHA-256; a test checks the files still match it.

To upgrade: change a version here, run `make vendor`, open /docs and /redoc.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "platform" / "beatstream" / "apidocs" / "assets"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    folder: str
    # Path inside the tarball (under `package/`) -> file name in `folder`.
    files: dict[str, str]


PACKAGES = (
    Package(
        "swagger-ui-dist",
        "5.35.0",
        "swagger-ui",
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "favicon-32x32.png": "favicon-32x32.png",
            "LICENSE": "LICENSE",
            "NOTICE": "NOTICE",
            "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
        },
    ),
    # 2.x: the `<redoc spec-url>` page FastAPI's get_redoc_html writes.
    Package(
        "redoc",
        "2.5.4",
        "redoc",
        {
            "bundles/redoc.standalone.js": "redoc.standalone.js",
            "bundles/redoc.standalone.js.LICENSE.txt": "redoc.standalone.js.LICENSE.txt",
            "LICENSE": "LICENSE",
        },
    ),
)


def npm_pack(package: Package, into: Path) -> tuple[Path, str]:
    """The package's tarball from the registry, and its integrity string."""
    spec = f"{package.name}@{package.version}"
    done = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (info,) = json.loads(done.stdout)
    if info["version"] != package.version:
        raise SystemExit(f"npm gave {info['name']}@{info['version']}, not {spec}")
    return into / info["filename"], str(info["integrity"])


def extract(package: Package, tarball: Path) -> dict[str, str]:
    """Write the package's files into its folder (emptied first); their SHA-256s."""
    folder = ASSETS / package.folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    digests = {}
    with tarfile.open(tarball) as archive:
        for inside, name in package.files.items():
            member = archive.extractfile(f"package/{inside}")
            if member is None:
                raise SystemExit(f"{package.name}: {inside} is not a file")
            data = member.read()
            (folder / name).write_bytes(data)
            digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def main() -> int:
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for package in PACKAGES:
            tarball, integrity = npm_pack(package, Path(tmp))
            manifest[package.folder] = {
                "package": package.name,
                "version": package.version,
                "integrity": integrity,
                "files": extract(package, tarball),
            }
            print(f"{package.name}@{package.version} -> {ASSETS / package.folder}")
    (ASSETS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
