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


@fastapi_app.get("/health/live")
async def live() -> dict[str, str]:
    return PAYLOAD
