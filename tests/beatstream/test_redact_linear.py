"""Redaction takes linear work on adversarial text, and masks exactly what the regexes did.

Linearity is checked by counting the scanner's steps (`_Meter`), never by timing: a
quadratic scan of 20,000 characters needs ~10^8 steps, far past the bound asserted.
The behaviour is pinned against the two regular expressions redaction used to be
(kept here as the oracle), on every input hypothesis draws from the characters that
matter to either of them.
"""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beatstream.redact import _KEY_LAST, MASK, _Meter, _redact, redact_text

_OLD_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<pw>[^@/\s]*)@"
)
_OLD_SECRET_PARAM = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|pass|secret|token|api_key|apikey|access_key))=(?P<value>[^&;#\s]*)",
    re.IGNORECASE,
)


def _oracle(text: str) -> str:
    if "://" not in text and "=" not in text:
        return text
    text = _OLD_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _OLD_SECRET_PARAM.sub(lambda m: f"{m['key']}={MASK}", text)


# Every steps-per-character figure the scanner can reach is below this; a scan that
# revisits a run of letters once per letter exceeds it by orders of magnitude.
STEPS_PER_CHAR = 64

_PIECES = st.sampled_from(
    [
        *"aZ9+.-:/@?&;#= \t\n\u00a0xX_",
        "://",
        "http://",
        "u:p@",
        "?token=",
        "&PASSWORD=",
        ";api_key=",
        "?Access_Key=",
        "?pass",
        "word=",
        "?to\u212aen=",  # KELVIN SIGN: re.IGNORECASE matches it as k
        "?\u017fecret=",  # LONG S: matched as s
        "1a",
    ]
)
_TEXTS = st.lists(_PIECES, max_size=40).map("".join)


@given(_TEXTS)
@settings(max_examples=1500, deadline=None)
def test_masks_exactly_what_the_old_regexes_masked(text: str) -> None:
    assert redact_text(text) == _oracle(text)


@given(st.text(max_size=80))
@settings(max_examples=500, deadline=None)
def test_masks_exactly_what_the_old_regexes_masked_on_any_text(text: str) -> None:
    assert redact_text(text) == _oracle(text)


def _steps(text: str) -> int:
    meter = _Meter()
    _redact(text, meter)
    return meter.steps


ADVERSARIAL = {
    "letters after a query": lambda n: "GET /health/live?x=" + "a" * n,
    "letters before ://": lambda n: "a" * n + "://",
    "scheme runs, no password": lambda n: "a://" * (n // 4),
    "anchors with open userinfo": lambda n: "a://u:" * (n // 6),
    "userinfo without @": lambda n: "a://" + ":" * n,
    "password without @": lambda n: "a://u:" + "p" * n,
    "dense equals": lambda n: "=" * n,
    "delimiters and equals": lambda n: "?=&=;=" * (n // 6),
    "keys without =": lambda n: "?password" * (n // 9),
    "secrets back to back": lambda n: "?token=" * (n // 7),
    "values with =": lambda n: "?token=" + "=a" * (n // 2),
    "scheme runs, @ at the end": lambda n: "a://" * (n // 4) + "@",
    "scheme runs after the only @": lambda n: "@" + "a://" * (n // 4),
    "open userinfo, @ at the end": lambda n: "a://u:p/" * (n // 8) + "@",
    "letters before ://, @ at the end": lambda n: "a" * n + "://u:@",
    "passwords back to back": lambda n: "a://u:p@" * (n // 8),
    "mixed": lambda n: ("x://u:p@h/?pass=1&" + "b" * 50) * (n // 68),
}


@pytest.mark.parametrize("shape", sorted(ADVERSARIAL))
def test_work_is_linear_in_the_text_on_adversarial_shapes(shape: str) -> None:
    text = ADVERSARIAL[shape](20_000)
    assert _steps(text) <= STEPS_PER_CHAR * (len(text) + 1)


@given(_TEXTS, st.integers(min_value=1, max_value=200))
@settings(max_examples=300, deadline=None)
def test_work_is_linear_in_the_text_on_repeated_random_shapes(unit: str, times: int) -> None:
    text = unit * times
    assert _steps(text) <= STEPS_PER_CHAR * (len(text) + 1)


def test_key_last_letters_are_every_character_ignorecase_matches_to_them() -> None:
    """The scanner skips a `=` unless the character before it may end a key."""
    last = re.compile("[dstny]", re.IGNORECASE)
    expected = {chr(c) for c in range(sys.maxunicode + 1) if last.fullmatch(chr(c))}
    assert expected == _KEY_LAST


@pytest.mark.parametrize("text", ["pwd=x", "token=x", "a=1&pass=x", "=x", "?=x", "&token="])
def test_keys_need_a_delimiter_before_them(text: str) -> None:
    assert redact_text(text) == _oracle(text)
