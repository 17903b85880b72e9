"""Beatstream: the async data-platform API of a music-streaming service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("beatstream")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
