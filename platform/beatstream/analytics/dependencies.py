"""Request parts the analytics routes share beyond `beatstream.deps`.

The response cache is the process-wide one the lifespan builds
(`beatstream.search.dependencies.CacheDep`), shared with the search routes: one
single flight across every request, and one bump of `CacheNamespace.SONGS` for both.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

IfNoneMatch = Annotated[
    str | None, Header(description="An ETag from an earlier answer: 304 if still current.")
]
