"""Probes for orchestrators: `live` never touches a store, `ready` checks all three."""

from __future__ import annotations

import re

from fastapi import APIRouter, Response, status
from starlette.types import Scope

from beatstream.fastpath import FastAnswer
from beatstream.health.dependencies import DetailDep, ReadinessDep
from beatstream.health.schemas import Liveness, Readiness, ReadinessStatus

router = APIRouter(prefix="/health", tags=["health"])


# The one answer liveness has, serialised once: probes poll it, and load balancers often.
LIVE_BODY = Liveness().model_dump_json().encode()


@router.get("/live", summary="The process is up", response_model=Liveness)
async def live() -> Response:
    return Response(LIVE_BODY, media_type="application/json")


async def fast_live(_match: re.Match[str], _scope: Scope) -> FastAnswer:
    """`GET /health/live` answered before routing (beatstream.fastpath): the same answer."""
    return LIVE_ANSWER


LIVE_ANSWER = FastAnswer(200, [(b"content-type", b"application/json")], LIVE_BODY)
FAST_LIVE = ("/health/live", fast_live)


@router.get(
    "/ready",
    summary="Every store answers",
    description="Store versions and errors are shown to admins and to callers from "
    "`HEALTH_DETAIL_NETWORKS`; anybody else gets the status only.",
    responses={503: {"model": Readiness, "description": "At least one store is down"}},
)
async def ready(
    probe: ReadinessDep, detail: DetailDep, response: Response
) -> Readiness | ReadinessStatus:
    report = await probe.check()
    if report.status != "ready":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        response.headers["Retry-After"] = "5"
    return report if detail else ReadinessStatus(status=report.status)
