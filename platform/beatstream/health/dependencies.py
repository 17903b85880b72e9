from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from beatstream.health.service import ReadinessProbe


async def get_readiness_probe(request: Request) -> ReadinessProbe:
    """The process-wide probe the lifespan created (see `beatstream.lifespan`)."""
    probe: ReadinessProbe = request.state.readiness
    return probe


ReadinessDep = Annotated[ReadinessProbe, Depends(get_readiness_probe)]
