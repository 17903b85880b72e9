"""The versioned API: every domain router mounted under /v1, with the guards they share."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from beatstream.catalog.router import router as catalog_router
from beatstream.common.query_guard import reject_operator_query_keys

v1 = APIRouter(prefix="/v1", dependencies=[Depends(reject_operator_query_keys)])
v1.include_router(catalog_router)
