"""`make browser`: make sure Debian's Chromium is installed for the browser tests.

Playwright's own browser download cannot run on this kind of machine, so the tests
drive `/usr/bin/chromium` (tests/browser/conftest.py). Idempotent and quiet: nothing
happens when it is already there; otherwise `apt-get install` as root (or via sudo),
the way `.ci/run` on a fresh machine needs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"
PACKAGES = ["chromium"]


def main() -> int:
    if os.path.exists(CHROMIUM):
        return 0
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None or shutil.which("apt-get") is None:
        print(f"{CHROMIUM} is missing: install Debian's chromium package", file=sys.stderr)
        return 1
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        done = subprocess.run([*sudo, *command], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
