"""Client factories for the three stores and the probes that report their health."""

from beatstream.stores.clients import Stores, close_stores, open_stores
from beatstream.stores.probe import StoreStatus, probe_all, require_all_up

__all__ = ["StoreStatus", "Stores", "close_stores", "open_stores", "probe_all", "require_all_up"]
