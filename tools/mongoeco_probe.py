"""`make mongoeco-probe`: the feature probe and our capability detection against mongoeco.

mongoeco (PyPI, a MongoDB-wire server in Python) needs Python >= 3.13 and the project
runs 3.11, so it gets its own virtual environment (`.mongoeco-venv`, git-ignored),
made with uv from an installed 3.13 (uv's own discovery, then pyenv's versions). Its
wire proxy (`tools/mongoeco_proxy.py`) is started on a free port, probed with
`shared/probes/mongo_features.py` and with `beatstream.stores.capabilities` (what
decides which tests and fallbacks run), then stopped by its pid. The comparison with
the stand-in is in docs/mongodb-stand-in.md; this re-measures it.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from pymongo import AsyncMongoClient

from beatstream.stores.capabilities import detect_capabilities
from beatstream.stores.clients import MongoDocument

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".mongoeco-venv"
VERSION = "4.11.0"


def python313() -> str:
    uv = shutil.which("uv") or "uv"
    found = subprocess.run(
        [uv, "python", "find", "3.13"], capture_output=True, text=True, check=False
    )
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/3.1[3-9]*/bin/python3"))
    if not candidates:
        sys.exit("no Python >= 3.13 found (uv python find 3.13, pyenv versions)")
    return candidates[-1]


def venv_python() -> str:
    python = VENV / "bin" / "python"
    check = [str(python), "-c", f"import mongoeco; assert mongoeco.__version__ == '{VERSION}'"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return str(python)
    uv = shutil.which("uv") or "uv"
    subprocess.run([uv, "venv", "--quiet", "-p", python313(), str(VENV)], check=True)
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), f"mongoeco=={VERSION}"],
        check=True,
    )
    return str(python)


def probe_script() -> Path:
    for base in (ROOT.parent, ROOT.parent.parent, ROOT.parent.parent.parent):
        script = base / "shared" / "probes" / "mongo_features.py"
        if script.is_file():
            return script
    sys.exit("shared/probes/mongo_features.py not found beside the checkout")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def capabilities(url: str) -> None:
    client: AsyncMongoClient[MongoDocument] = AsyncMongoClient(url)
    try:
        for name, capability in (await detect_capabilities(client)).items():
            status = "ok" if capability.available else "MISSING"
            print(f"{status:8} {name}  {capability.detail[:120]}")
    finally:
        await client.close()


def main() -> None:
    python = venv_python()
    port = free_port()
    proxy = subprocess.Popen(
        [python, str(ROOT / "tools" / "mongoeco_proxy.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proxy.stdout is not None
        ready = proxy.stdout.readline()
        if not ready.startswith("ready"):
            sys.exit(f"the mongoeco proxy did not start: {ready!r}")
        url = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        print(f"mongoeco {VERSION} on {url}\n-- shared probe")
        subprocess.run([sys.executable, str(probe_script()), url], check=False)
        print("-- beatstream.stores.capabilities")
        asyncio.run(capabilities(url))
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


if __name__ == "__main__":
    main()
