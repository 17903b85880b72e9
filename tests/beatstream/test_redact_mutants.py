"""Redaction pinned down key by key, case by case and terminator by terminator.

Written against the public behaviour only (`redact_text`, `redact_url`), so a rewrite
of the patterns keeps these tests: every key of the list is masked in any letter case,
a value ends at `&`, `;`, `#` or whitespace and nowhere else, and a secret parameter is
masked in a line that holds no URL at all (`?token=...` without `://`).
"""

from __future__ import annotations

import pytest

from beatstream.redact import redact_text, redact_url

SECRET_KEYS = (
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
)


def _cases(key: str) -> list[str]:
    return [
        key,
        key.upper(),
        key.capitalize(),
        "".join(c.upper() if i % 2 else c for i, c in enumerate(key)),
    ]


@pytest.mark.parametrize("key", [case for key in SECRET_KEYS for case in _cases(key)])
def test_every_secret_key_is_masked_in_any_case_without_a_url(key: str) -> None:
    line = f"GET /callback?{key}=s3cr3t-Value_1 200"
    assert redact_text(line) == f"GET /callback?{key}=*** 200"


@pytest.mark.parametrize("key", SECRET_KEYS)
@pytest.mark.parametrize("separator", ["?", "&", ";"])
def test_every_secret_key_is_masked_after_every_separator_in_a_url(
    key: str, separator: str
) -> None:
    prefix = "https://api.example/v1?page=2" if separator != "?" else "https://api.example/v1"
    url = f"{prefix}{separator}{key}=hunter2&db=1"
    assert redact_url(url) == f"{prefix}{separator}{key}=***&db=1"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("?token=abc&next=1", "?token=***&next=1"),
        ("?token=abc;next=1", "?token=***;next=1"),
        ("?token=abc#fragment", "?token=***#fragment"),
        ("?token=abc next", "?token=*** next"),
        ("?token=abc\tnext", "?token=***\tnext"),
        ("?token=abc\nnext", "?token=***\nnext"),
        ("?token=abc", "?token=***"),
    ],
)
def test_a_value_ends_at_each_terminator_and_only_there(line: str, expected: str) -> None:
    assert redact_text(line) == expected


def test_every_secret_parameter_of_a_line_is_masked() -> None:
    line = "retry ?token=t1&user=ada;secret=s2 and &API_KEY=k3#x"
    assert redact_text(line) == "retry ?token=***&user=ada;secret=*** and &API_KEY=***#x"


@pytest.mark.parametrize(
    "line",
    [
        "GET /songs?page=2&limit=20",
        "a=b c=d",
        "no parameters here",
        "https://api.example/v1?sort=title&cursor=abc",
        "token is missing",
    ],
)
def test_other_parameters_and_plain_text_are_left_alone(line: str) -> None:
    assert redact_text(line) == line


def test_a_url_password_is_masked_whatever_the_scheme_and_the_rest_is_kept() -> None:
    text = "to amqp+ssl://svc:p%40ss@mq:5671/vhost and redis://:pw@r:6379?password=x&db=1"
    assert redact_text(text) == (
        "to amqp+ssl://svc:***@mq:5671/vhost and redis://:***@r:6379?password=***&db=1"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An empty password is still a password field: `user:@` becomes `user:***@`.
        ("redis://u:@h:6379", "redis://u:***@h:6379"),
        # The password stops at `/`: an `@` after one is no userinfo.
        ("a://u:/@h", "a://u:/@h"),
        # A scheme needs a letter; one of digits only, even after a letter, is none.
        ("a 1://u:p@h", "a 1://u:p@h"),
        # A `://` at the very start or without a scheme does not end the search.
        ("://x and redis://u:p@h", "://x and redis://u:***@h"),
        ("1://x and redis://u:p@h", "1://x and redis://u:***@h"),
    ],
)
def test_url_passwords_at_the_edges_of_the_userinfo_grammar(text: str, expected: str) -> None:
    assert redact_text(text) == expected
