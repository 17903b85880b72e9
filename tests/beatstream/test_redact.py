from __future__ import annotations

import pytest

from beatstream.redact import redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mongodb://app:s3cret@h1:27017,h2:27017/db?replicaSet=rs0",
            "mongodb://app:***@h1:27017,h2:27017/db?replicaSet=rs0",
        ),
        ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
        ("https://elastic:pw@es1:9200", "https://elastic:***@es1:9200"),
        ("redis://cache:6379/0?password=hunter2&db=1", "redis://cache:6379/0?password=***&db=1"),
        (
            "mongodb://127.0.0.1:27017/?directConnection=true",
            "mongodb://127.0.0.1:27017/?directConnection=true",
        ),
    ],
)
def test_redact_url_masks_only_secrets(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_text_finds_urls_inside_messages() -> None:
    message = "cannot reach mongodb://u:topsecret@db:27017 nor redis://:x@r:6379"
    redacted = redact_text(message)
    assert "topsecret" not in redacted
    assert redacted == "cannot reach mongodb://u:***@db:27017 nor redis://:***@r:6379"
