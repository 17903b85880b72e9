"""Who is calling: the roles an account can hold and the principal a token proves.

Kept free of imports from other domain packages, so documents (the listener's
`role`) and every router can depend on it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId


class Role(StrEnum):
    """Listeners own their data; editors also write the catalogue; admins do everything."""

    listener = "listener"
    editor = "editor"
    admin = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified access token: the account it names, its role, and what logout needs."""

    subject: PydanticObjectId
    role: Role
    token_id: str
    expires_at: datetime
    # The account's token generation at issue: a newer one on the account (logout
    # everywhere, a password change) makes every older token invalid.
    generation: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def may_act_for(self, owner_id: PydanticObjectId) -> bool:
        """Listener-owned data (profile, plays, playlists): the owner themself or an admin."""
        return self.is_admin or self.subject == owner_id
