"""The service lives in `platform/`, a name the standard library owns: prove it is not shadowed."""

from __future__ import annotations

import importlib
import sysconfig
from pathlib import Path


def test_platform_module_is_the_standard_library() -> None:
    platform = importlib.import_module("platform")
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert platform.python_version().startswith("3.")


def test_beatstream_imports_from_the_platform_folder() -> None:
    beatstream = importlib.import_module("beatstream")
    assert Path(beatstream.__file__).resolve().parent.parent.name == "platform"
