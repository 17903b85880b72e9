"""Caching infrastructure shared by routers and pipelines; imports no domain package."""
