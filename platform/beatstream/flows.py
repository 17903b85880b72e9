"""Cross-domain flows: what a listener's life sets in motion in the partner views.

The one place that calls from listeners into partners. `listeners` only knows its
`ListenerHooks` protocol and finds this implementation on the app state (the lifespan
puts it there), so `partners` can build on `listeners` without either importing the
other both ways.
"""

from __future__ import annotations

from beatstream.cache.store import ResponseCache
from beatstream.listeners.documents import Listener
from beatstream.partners.views.pseudonyms import Pseudonyms
from beatstream.partners.views.service import assign_listener_key, listener_left


class ListenerFlows:
    """`listeners.service.ListenerHooks` for this process: its pseudonym keys and cache."""

    def __init__(self, pseudonyms: Pseudonyms, cache: ResponseCache) -> None:
        self.pseudonyms = pseudonyms
        self.cache = cache

    def before_insert(self, listener: Listener) -> None:
        """The new listener's pseudonymous key, stored with it (see pseudonyms.py)."""
        assign_listener_key(listener, self.pseudonyms)

    async def left(self, listener_key: str | None) -> None:
        """Consent withdrawn or erased: a tombstone for the feed, cached pages dropped."""
        await listener_left(listener_key, self.cache)
