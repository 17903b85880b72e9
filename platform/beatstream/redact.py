"""Credential redaction for anything that may reach a log line, an error or a terminal.

Store URLs carry passwords (`mongodb://app:secret@...`, `redis://:secret@...`,
`?password=...`). Every place that prints a URL goes through `redact_url`, and the
log formatter runs `redact_text` over whole messages as a second line of defence.
"""

from __future__ import annotations

import re

MASK = "***"

_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<pw>[^@/\s]*)@"
)
_SECRET_PARAM = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|pass|secret|token|api_key|apikey|access_key))=(?P<value>[^&;#\s]*)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """Mask the password of a URL (`user:***@`) and secret-looking query parameters."""
    return redact_text(url)


def redact_text(text: str) -> str:
    """Mask every URL password and secret query parameter found anywhere in `text`."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}={MASK}", text)
