"""Every Beanie document model of the service, registered with `init_beanie` at start.

Domain packages append their models here, so start-up (and the test harness)
initialises exactly one list and creates the indexes declared on each model.
"""

from __future__ import annotations

from beanie import Document, View

from beatstream.auth.documents import AccountCredentials
from beatstream.catalog.documents import Artist, Song, SongTombstone
from beatstream.listeners.documents import Listener, ListenerErasure, PlayEvent
from beatstream.partners.documents import ApiKey, AuditEntry
from beatstream.partners.views.documents import ConsentWithdrawal
from beatstream.playlists.documents import Playlist

DOCUMENT_MODELS: list[type[Document] | type[View]] = [
    Artist,
    Song,
    SongTombstone,
    Listener,
    # The same collection as `Listener`, auth's narrow model of an account's credentials.
    AccountCredentials,
    ListenerErasure,
    PlayEvent,
    Playlist,
    ConsentWithdrawal,
    ApiKey,
    AuditEntry,
]
