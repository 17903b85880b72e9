"""The credential side of an account, as auth stores and reads it.

An account is one document of the `listeners` collection (one person, one email, one
password), which the listeners domain owns and describes in full. Auth reads and
writes only the credential fields through this narrow model of the same collection,
so it imports no listener code: listeners depend on auth (roles, hashing,
re-authentication), never the reverse (`domain-order` in `make lint`).
"""

from __future__ import annotations

from beanie import Document

ACCOUNTS_COLLECTION = "listeners"


class AccountCredentials(Document):
    """Never instantiated from a request: auth's queries are raw and projected, and this
    model only binds them to the collection (Beanie registers it at start-up)."""

    email: str

    class Settings:
        name = ACCOUNTS_COLLECTION
