"""Prometheus's `promtool`, to check and unit-test deploy/prometheus/ (tests/deploy).

Building it from source takes Go more than twenty minutes on this kind of machine; the
Debian package `prometheus` ships it ready-made. The package is downloaded and unpacked
into the cache (`apt-get download` + `dpkg -x`: no root, nothing installed system-wide),
once. A `promtool` already on the PATH wins.

`uv run python tools/promtool.py` prints its path, or says why there is none (exit 1).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "prometheus"
CACHE = Path.home() / ".cache" / "beatstream" / "promtool"


class PromtoolMissing(RuntimeError):
    pass


def promtool() -> Path:
    """The path of a working `promtool`; raises PromtoolMissing saying why not."""
    found = shutil.which("promtool")
    if found:
        return Path(found)
    unpacked = CACHE / "usr" / "bin" / "promtool"
    if not unpacked.exists():
        _unpack_debian_package()
    return unpacked


def _unpack_debian_package() -> None:
    for command in ("apt-get", "dpkg"):
        if shutil.which(command) is None:
            raise PromtoolMissing(f"no promtool on the PATH and no {command} to fetch it")
    with tempfile.TemporaryDirectory() as download:
        fetched = subprocess.run(
            ["apt-get", "download", PACKAGE], cwd=download, capture_output=True, text=True
        )
        debs = list(Path(download).glob(f"{PACKAGE}_*.deb"))
        if fetched.returncode != 0 or not debs:
            raise PromtoolMissing(
                f"apt-get download {PACKAGE} failed: {fetched.stderr.strip()[-500:]}"
            )
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=CACHE.parent))
        subprocess.run(["dpkg", "-x", str(debs[0]), str(staging)], check=True)
        shutil.rmtree(CACHE, ignore_errors=True)
        staging.rename(CACHE)  # whole or not at all: a half-unpacked tree is never used


def main() -> int:
    try:
        print(promtool())
    except PromtoolMissing as missing:
        print(missing, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
