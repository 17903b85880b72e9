"""Partner access in one place: API keys, the audit log of pulls, the key check with its
per-key rate limit (this package), and the masked views partners read (`views/`)."""
