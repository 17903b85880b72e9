"""Admin reads of the partner audit log.

Admin-only: when `beatstream.auth.dependencies.AdminDep` lands, it is one argument
here, `APIRouter(..., dependencies=[AdminDep])`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from beatstream.common.pagination import Page
from beatstream.partners import service
from beatstream.partners.schemas import AuditEntryOut, AuditQuery

audit_router = APIRouter(prefix="/admin/audit", tags=["admin"])


@audit_router.get("", summary="Third-party pulls, newest first, by key, view and time")
async def list_audit(query: Annotated[AuditQuery, Query()]) -> Page[AuditEntryOut]:
    return await service.audit_page(query)
