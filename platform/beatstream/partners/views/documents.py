"""What the third-party feed keeps beside the views: the log of listeners who left them.

A listener who withdraws consent (or is erased) simply stops matching the views, so
a partner reading only changed rows would never learn to delete them. Each departure
is logged here as the listener's pseudonymous key and a time, nothing else, and the
change feed replays these as tombstones.
"""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from beatstream.common.documents import utcnow


class ConsentWithdrawal(Document):
    """Append-only; the feed reads it in (`at`, `listener_key`) order, through its index."""

    listener_key: str
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "consent_withdrawals"
        indexes = [IndexModel([("at", ASCENDING), ("listener_key", ASCENDING)], name="at_key")]
