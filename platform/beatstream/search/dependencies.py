"""The process-wide response cache: one per process, so single-flight spans all requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from beatstream.search.cache import ResponseCache


async def get_response_cache(request: Request) -> ResponseCache:
    cache: ResponseCache = request.state.cache
    return cache


CacheDep = Annotated[ResponseCache, Depends(get_response_cache)]
