"""Find a JDK new enough for a Java server among the ones installed on the machine."""

from __future__ import annotations

import os
import re
from pathlib import Path

from devstack.process import StackError

JVM_ROOTS = (Path("/usr/lib/jvm"), Path("/opt/java"), Path("/usr/local/lib/jvm"))


def java_major(java_home: Path) -> int | None:
    """The feature version a JDK declares in its `release` file (`JAVA_VERSION="25.0.1"`)."""
    try:
        text = (java_home / "release").read_text()
    except OSError:
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', text, re.MULTILINE)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8" means 8


def find_java_home(minimum: int, preferred: str | None = None) -> Path:
    """`preferred` (e.g. BEATSTREAM_STACK_JAVA_HOME) wins; else the newest JDK >= minimum."""
    if preferred:
        home = Path(preferred)
        major = java_major(home)
        if major is None or major < minimum:
            raise StackError(f"{home} is not a JDK {minimum}+ (found {major})")
        return home
    candidates = [Path(os.environ["JAVA_HOME"])] if os.environ.get("JAVA_HOME") else []
    for root in JVM_ROOTS:
        if root.is_dir():
            candidates.extend(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    found = [(java_major(p) or 0, p) for p in candidates if (p / "bin" / "java").exists()]
    usable = sorted((m, p) for m, p in found if m >= minimum)
    if not usable:
        seen = ", ".join(f"{p} ({m})" for m, p in found) or "none"
        raise StackError(f"no JDK {minimum}+ found; seen: {seen}")
    return usable[-1][1]
