"""The framework's own floor: a constant JSON route on bare Starlette and bare FastAPI.

`bench.http_overhead` serves these through `bench.support.launch` with the uvicorn
options `beatstream serve` uses, so a Beatstream row divided by one of these is what
Beatstream adds on top of the framework, on the same machine in the same run.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PAYLOAD = {"status": "alive"}


async def _constant(_request: Request) -> JSONResponse:
    return JSONResponse(PAYLOAD)


starlette_app = Starlette(routes=[Route("/health/live", _constant)])

fastapi_app = FastAPI()
# FastAPI (0.165 on) asks OpenTelemetry's global providers on every request whether its
# native telemetry has work to do; Beatstream tells it at start instead (beatstream.app).
# This twin does the same, so a ratio against it is not flattered by that check.
fastapi_quiet_app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})


@fastapi_app.get("/health/live")
@fastapi_quiet_app.get("/health/live")
async def live() -> dict[str, str]:
    return PAYLOAD
