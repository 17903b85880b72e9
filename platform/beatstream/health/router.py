"""Probes for orchestrators: `live` never touches a store, `ready` checks all three."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from beatstream.health.dependencies import ReadinessDep
from beatstream.health.schemas import Liveness, Readiness

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", summary="The process is up")
async def live() -> Liveness:
    return Liveness()


@router.get(
    "/ready",
    summary="Every store answers",
    responses={503: {"model": Readiness, "description": "At least one store is down"}},
)
async def ready(probe: ReadinessDep, response: Response) -> Readiness:
    report = await probe.check()
    if report.status != "ready":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        response.headers["Retry-After"] = "5"
    return report
