"""Admin reads of the partner audit log: admins only (a bearer token with role admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from beatstream.auth.dependencies import ROLE_RESPONSES, require_admin
from beatstream.common.pagination import Page
from beatstream.partners import service
from beatstream.partners.schemas import AuditEntryOut, AuditQuery

audit_router = APIRouter(
    prefix="/admin/audit",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ROLE_RESPONSES,
)


@audit_router.get("", summary="Third-party pulls, newest first, by key, view and time")
async def list_audit(query: Annotated[AuditQuery, Query()]) -> Page[AuditEntryOut]:
    return await service.audit_page(query)
