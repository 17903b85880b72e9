"""The versioned API: every domain router mounted under /v1, with the guards they share."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from beatstream.admin.router import router as admin_router
from beatstream.admin.router import router_sync as admin_sync_router
from beatstream.analytics.router import router as analytics_router
from beatstream.auth.router import router as auth_router
from beatstream.catalog.router import router as catalog_router
from beatstream.common.query_guard import reject_operator_query_keys
from beatstream.listeners.router import router as listeners_router
from beatstream.partners.router import audit_router, keys_router
from beatstream.partners.views.router import router as thirdparty_router
from beatstream.playlists.router import router as playlists_router
from beatstream.search.router import router as search_router

v1 = APIRouter(prefix="/v1", dependencies=[Depends(reject_operator_query_keys)])
v1.include_router(auth_router)
v1.include_router(catalog_router)
v1.include_router(listeners_router)
v1.include_router(playlists_router)
v1.include_router(admin_router)
v1.include_router(admin_sync_router)
v1.include_router(audit_router)
v1.include_router(keys_router)
v1.include_router(search_router)
v1.include_router(analytics_router)
v1.include_router(thirdparty_router)
