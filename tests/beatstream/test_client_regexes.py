"""Every regular expression that sees client input sees a bounded amount of it.

The audit (docs/deployment.md lists it): redaction is a counted linear scanner
(test_redact_linear.py); the request id and the partner key format are checked here
by recording how much text each regex is handed for a megabyte of adversarial
input; the query-key guard uses `str` methods only; pydantic `pattern=` constraints
(genres, emails, ids) run on pydantic-core's Rust engine, which is linear-time by
design, as long as no model switches to Python's `re`: checked here for every model.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import pytest
from pydantic import BaseModel

import beatstream
from beatstream import middleware
from beatstream.partners import service as partners

HUGE = 1_000_000


class Recording:
    """Stands in for a compiled pattern and records the length of each text given."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.lengths: list[int] = []

    def match(self, text: str, *args: Any) -> re.Match[str] | None:
        self.lengths.append(len(text))
        return self.pattern.match(text, *args)

    def fullmatch(self, text: str, *args: Any) -> re.Match[str] | None:
        self.lengths.append(len(text))
        return self.pattern.fullmatch(text, *args)


@pytest.mark.parametrize("value", ["a" * HUGE, "a" * HUGE + "\n", "-" * HUGE])
def test_the_request_id_regex_sees_at_most_128_characters(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    recording = Recording(middleware._VALID_REQUEST_ID)
    monkeypatch.setattr(middleware, "_VALID_REQUEST_ID", recording)

    assert middleware._is_valid_request_id(value) is False
    assert all(length <= middleware.MAX_REQUEST_ID for length in recording.lengths)


@pytest.mark.parametrize("value", ["bsk_" + "0" * HUGE, "bsk_" + "a" * 16 + "_" + "x" * HUGE])
async def test_the_partner_key_regex_sees_at_most_a_key_length(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    recording = Recording(partners._KEY_FORMAT)
    monkeypatch.setattr(partners, "_KEY_FORMAT", recording)

    with pytest.raises(partners.UnauthorizedError):
        await partners.authenticate(value)
    assert all(length <= partners.MAX_PRESENTED_LENGTH for length in recording.lengths)


def _models() -> list[type[BaseModel]]:
    for module in pkgutil.walk_packages(beatstream.__path__, "beatstream."):
        if not module.name.endswith("__main__"):  # that one runs the CLI
            importlib.import_module(module.name)

    def subclasses(cls: type[BaseModel]) -> list[type[BaseModel]]:
        return [cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))]

    return [m for m in subclasses(BaseModel) if m.__module__.startswith("beatstream.")]


def test_every_pattern_constraint_runs_on_the_linear_engine() -> None:
    models = _models()

    assert len(models) > 20  # the walk found the API's models
    python_re = [m.__name__ for m in models if m.model_config.get("regex_engine") == "python-re"]
    assert python_re == []
