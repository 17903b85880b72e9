"""Request parts of the cached routes: the process-wide response cache and `If-None-Match`.

One cache per process (the lifespan builds it), so single flight spans all requests
and one bump of a namespace reaches every route that caches under it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header

from beatstream.cache.reads import HotReads
from beatstream.cache.store import ResponseCache
from beatstream.state import get_hot_reads, get_response_cache

CacheDep = Annotated[ResponseCache, Depends(get_response_cache)]
HotReadsDep = Annotated[HotReads[Any], Depends(get_hot_reads)]
IfNoneMatch = Annotated[
    str | None, Header(description="An ETag from an earlier answer: 304 if still current.")
]
