"""A listener's name: the document says exactly which names the server accepts.

Names are trimmed, and Python, Rust (pydantic-core) and JSON Schema (ECMA-262) each
count a different set of characters as whitespace, so a schema saying only
`minLength: 1` let a client send `"\\f"` and get a 422 (the fuzz run's stateful phase
found it). Pure: the type itself, every code point of the Basic Multilingual Plane's
first part plus the BOM.
"""

from __future__ import annotations

import re

import pytest
from pydantic import TypeAdapter, ValidationError

from beatstream.listeners.schemas import NAME_MAX, Email, Name

NAME = TypeAdapter(Name)
SCHEMA = NAME.json_schema()


def _accepted(value: str) -> bool:
    try:
        NAME.validate_python(value)
    except ValidationError:
        return False
    return True


def test_a_one_character_name_is_accepted_exactly_when_the_pattern_says_so() -> None:
    # An explicit character class: Python's `re` reads it as ECMA-262 does.
    pattern = re.compile(SCHEMA["pattern"])
    disagreements = [
        hex(code)
        for code in [*range(0x3001), 0xFEFF]
        if _accepted(chr(code)) != bool(pattern.search(chr(code)))
    ]
    assert disagreements == []


@pytest.mark.parametrize(
    ("sent", "accepted"),
    [
        ("a" * NAME_MAX, True),
        ("a" * (NAME_MAX + 1), False),
        # Over the limit as sent, within it once trimmed: `maxLength` counts what is sent.
        (" " + "a" * NAME_MAX, False),
        (" Ada ", True),
        ("\f", False),
        ("\ufeff", True),
    ],
)
def test_the_length_limit_counts_the_name_as_sent(sent: str, accepted: bool) -> None:
    assert SCHEMA["maxLength"] == NAME_MAX
    assert _accepted(sent) is accepted


EMAIL = TypeAdapter(Email)
EMAIL_SCHEMA = EMAIL.json_schema()


@pytest.mark.parametrize(
    "sent",
    [
        "ada@example.com",
        "  Ada@Example.COM\u3000",
        "\fada@example.com",
        "ada @example.com",
        "ada@example",
        "\ufeffada@example.com",
        "\x1cada@example.com",
        " " * 10 + "a@b.c" + "x" * 240,
        "a@b.c" + "x" * 249,
    ],
)
def test_an_email_is_accepted_exactly_when_the_document_says_so(sent: str) -> None:
    """Trimmed like a name; the pattern allows the trimmed blanks around it, the length
    counts them."""
    try:
        EMAIL.validate_python(sent)
    except ValidationError:
        accepted = False
    else:
        accepted = True
    documented = (
        bool(re.search(EMAIL_SCHEMA["pattern"], sent)) and len(sent) <= EMAIL_SCHEMA["maxLength"]
    )
    assert accepted is documented
