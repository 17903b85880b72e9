"""Credential redaction for anything that may reach a log line, an error or a terminal.

Store URLs carry passwords (`mongodb://app:secret@...`, `redis://:secret@...`,
`?password=...`). Every place that prints a URL goes through `redact_url`, and the
log formatter runs `redact_text` over whole messages as a second line of defence.

The access log hands this module whatever URL an anonymous client sent, so it must
take time linear in the text. It used to be two regular expressions, one of which
(`scheme://user:pw@`, unanchored) re-scanned a run of letters from each of its
letters: 64,000 letters in a query string blocked the event loop for seconds. Now
it is a scanner driven by fixed anchors (`://` for a URL password, `=` for a secret
parameter) whose every step moves forward or stays inside a window of fixed width
around an anchor; regular expressions remain only where the text they see is
bounded (a key is at most 10 characters) or they cannot backtrack (one greedy
character class with nothing after it). `_Meter` counts those steps so a test can
check linearity by counting, not timing (tests/beatstream/test_redact_linear.py).

What is masked is unchanged: the password of `scheme://user:password@` (the scheme
starts at the first letter of its run of `[A-Za-z0-9+.-]`), and the value of
`password|passwd|pwd|pass|secret|token|api_key|apikey|access_key` (case-insensitive,
as `re.IGNORECASE` matches them) after `?`, `&` or `;`, up to `&`, `;`, `#` or
whitespace.
"""

from __future__ import annotations

import re

MASK = "***"

_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_LETTER = re.compile(r"[a-zA-Z]")
# One greedy class with nothing after it: matched in one forward pass, no backtracking.
_USER = re.compile(r"[^:@/\s]*")
_PASSWORD = re.compile(r"[^@/\s]*")
_VALUE = re.compile(r"[^&;#\s]*")
# Only ever run with `fullmatch` on the at most `_KEY_MAX` characters before a `=`.
_KEY = re.compile(r"password|passwd|pwd|pass|secret|token|api_key|apikey|access_key", re.IGNORECASE)
_KEY_LENGTHS = frozenset({3, 4, 5, 6, 7, 8, 10})
_KEY_MAX = max(_KEY_LENGTHS)
# Every character `re.IGNORECASE` matches to a key's last letter (d, s, t, n, y):
# a `=` after anything else cannot end a key (tests check the set against `re`).
_KEY_LAST = frozenset("dstnyDSTNY\u017f")
_DELIMITERS = "?&;"


class _Meter:
    """Characters examined (each C-level find or match is charged the span it covers)."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0


def redact_url(url: str) -> str:
    """Mask the password of a URL (`user:***@`) and secret-looking query parameters."""
    return redact_text(url)


def redact_text(text: str) -> str:
    """Mask every URL password and secret query parameter found anywhere in `text`."""
    return _redact(text, _Meter())


def _run_end(run: re.Pattern[str], text: str, pos: int) -> int:
    """Where the run of `run`'s one character class starting at `pos` ends."""
    match = run.match(text, pos)  # a `*` run always matches, if only empty
    return match.end() if match else pos


def _redact(text: str, meter: _Meter) -> str:
    meter.steps += 3 * len(text)  # the `in` tests below
    if "://" not in text and "=" not in text:
        return text
    if "@" in text:  # every URL password ends at one
        text = _mask_userinfo(text, meter)
    return _mask_params(text, meter)


def _mask_userinfo(text: str, meter: _Meter) -> str:
    """`scheme://user:pw@` -> `scheme://user:***@`, as a left-to-right regex `sub` would.

    Each `://` is an anchor; its scheme is the run of scheme characters just before it
    (walked back, never past the previous `://` nor the end of the last replacement, so
    no character is walked twice), and user and password are read forward up to the
    first `/`, which the next anchor's `://` contains: forward reads never overlap.
    The next `@` is found once and reused until an anchor passes it: an anchor with no
    `@` after it cannot match, so the scan stops there.
    """
    out: list[str] = []
    copied = 0  # text[:copied] is already in `out`; no match may start before it
    pos = 0
    at = -1  # the first `@` at or after the current anchor's userinfo, once looked up
    n = len(text)
    while (anchor := text.find("://", pos)) >= 0:
        meter.steps += anchor - pos + 1
        pos = anchor + 1
        if at < anchor + 3:
            at = text.find("@", max(at + 1, anchor + 3))
            meter.steps += (at if at >= 0 else n) - anchor
            if at < 0:
                break
        start = anchor
        while start > copied and text[start - 1] in _SCHEME_CHARS:
            start -= 1
            meter.steps += 1
        letter = _LETTER.search(text, start, anchor)
        meter.steps += anchor - start + 1
        if letter is None:
            continue
        user_end = _run_end(_USER, text, anchor + 3)
        meter.steps += user_end - anchor - 2
        if user_end >= n or text[user_end] != ":":
            continue
        password_end = _run_end(_PASSWORD, text, user_end + 1)
        meter.steps += password_end - user_end
        if password_end >= n or text[password_end] != "@":
            continue
        out += (text[copied : user_end + 1], MASK)
        copied = pos = password_end
    meter.steps += n - pos
    return "".join(out) + text[copied:] if out else text


def _mask_params(text: str, meter: _Meter) -> str:
    """`?token=v` -> `?token=***`, as a left-to-right regex `sub` would.

    Each `=` is an anchor. A key (no delimiter, no `=` in it) ends right before it and
    is 3 to 10 characters long, so its delimiter can only be the last `?`, `&` or `;`
    among the `_KEY_MAX + 1` characters before the `=`: a fixed window. A value is read
    forward once and skipped (a `=` inside a value is no anchor, as in the regex).
    """
    out: list[str] = []
    copied = 0
    pos = 0
    while (equals := text.find("=", pos)) >= 0:
        meter.steps += equals - pos + 1
        pos = equals + 1
        if equals == 0 or text[equals - 1] not in _KEY_LAST:
            continue
        window = max(copied, equals - _KEY_MAX - 1)
        delimiter = max(text.rfind(d, window, equals) for d in _DELIMITERS)
        meter.steps += 3 * (equals - window)
        if delimiter < 0 or equals - delimiter - 1 not in _KEY_LENGTHS:
            continue
        meter.steps += equals - delimiter
        if _KEY.fullmatch(text, delimiter + 1, equals) is None:
            continue
        value_end = _run_end(_VALUE, text, equals + 1)
        meter.steps += value_end - equals
        out += (text[copied : equals + 1], MASK)
        copied = pos = value_end
    meter.steps += len(text) - pos
    return "".join(out) + text[copied:] if out else text
