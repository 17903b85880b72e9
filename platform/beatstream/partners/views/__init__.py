"""Masked, consent-filtered views of listener behaviour for analytics partners."""
