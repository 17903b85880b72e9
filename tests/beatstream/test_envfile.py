"""`beatstream.envfile`: the first run's `.env`, created once, private, never overwritten."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values

from beatstream.envfile import SECRET_VARIABLES, init_env_file
from beatstream.settings import Settings


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Umask 0: the file's mode must come from the code, not from the caller's umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_creates_the_file_with_both_secrets_readable_by_the_owner_only(
    tmp_path: Path, permissive_umask: None
) -> None:
    path = tmp_path / ".env"

    result = init_env_file(path)

    assert result.created
    assert mode(path) == 0o600
    values = dotenv_values(path)
    assert set(values) == set(SECRET_VARIABLES)
    # Long enough for both settings' minimum, and not the same value twice.
    assert all(len(value or "") >= 32 for value in values.values())
    assert len(set(values.values())) == len(SECRET_VARIABLES)


def test_settings_read_the_secrets_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    init_env_file(path)
    values = dotenv_values(path)

    settings = Settings(_env_file=path)  # type: ignore[call-arg]

    assert settings.security.jwt_secret is not None
    assert settings.security.jwt_secret.get_secret_value() == values["SECURITY_JWT_SECRET"]
    assert settings.thirdparty.pseudonym_secret is not None
    secret = settings.thirdparty.pseudonym_secret.get_secret_value()
    assert secret == values["THIRDPARTY_PSEUDONYM_SECRET"]


def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    init_env_file(path)
    before = path.read_bytes()
    os.chmod(path, 0o640)  # the operator's choice, kept too

    result = init_env_file(path)

    assert not result.created
    assert result.missing == ()
    assert path.read_bytes() == before
    assert mode(path) == 0o640


def test_an_operators_file_is_never_touched_and_its_gaps_are_named(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("MONGODB_DB=mine\nSECURITY_JWT_SECRET=\n")

    result = init_env_file(path)

    assert not result.created
    assert result.missing == SECRET_VARIABLES
    assert path.read_text() == "MONGODB_DB=mine\nSECURITY_JWT_SECRET=\n"


def test_a_failed_write_leaves_no_half_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half a file would pass for the operator's own on the next run, and never be fixed."""

    def broken() -> dict[str, str]:
        raise OSError("disk full")

    path = tmp_path / ".env"
    monkeypatch.setattr("beatstream.envfile.generate_secrets", broken)

    with pytest.raises(OSError, match="disk full"):
        init_env_file(path)

    assert not path.exists()
