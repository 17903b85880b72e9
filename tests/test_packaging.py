"""The service's wheel ships the service only: the developer stack (`devstack`) stays out.

The image installs the same project without the dev group, so what this proves for the
wheel holds for it: `import beatstream.stack` (or `devstack`) fails where only the
service is installed. The venv here is built from the wheel alone (`--no-deps`,
offline): it answers what the wheel contains, not whether its dependencies resolve.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(project: Path, out: Path) -> Path:
    subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(out), str(project)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("beatstream-*.whl")
    return wheel


def stack_files(wheel: Path) -> list[str]:
    names = zipfile.ZipFile(wheel).namelist()
    return [n for n in names if "stack" in n.lower() or n.startswith("devstack/")]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(ROOT, tmp_path_factory.mktemp("dist"))


def test_the_wheel_lists_no_stack_files(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "beatstream/app.py" in names
    assert stack_files(wheel) == []


def test_only_the_service_imports_where_only_the_wheel_is_installed(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run(["uv", "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        ["uv", "pip", "install", "-q", "--offline", "--no-deps", "--python", str(python), wheel],
        check=True,
    )
    probe = (
        "import importlib.util as u;"
        "print(u.find_spec('beatstream') is not None, u.find_spec('beatstream.stack'),"
        " u.find_spec('devstack'))"
    )
    found = subprocess.run(
        [python, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["True", "None", "None"]


def test_the_wheel_carries_the_dashboard_but_not_its_test_tools(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "beatstream/dashboard/templates/dashboard.html",
        "beatstream/dashboard/static/dashboard.js",
        "beatstream/dashboard/static/vendor/uPlot.iife.min.js",
        "beatstream/dashboard/static/vendor/uplot.LICENSE",
    ):
        assert shipped in names
    assert not [n for n in names if "axe" in n]
