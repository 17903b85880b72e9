"""Admin routes for partners: their API keys and the audit log of their pulls.

Admins only (a bearer token with role admin). The same operations exist as the
`beatstream keys` command for operators with shell access instead of a token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from beatstream.auth.dependencies import ROLE_RESPONSES, require_admin
from beatstream.common.pagination import Page
from beatstream.errors import NotFoundError
from beatstream.partners import service
from beatstream.partners.schemas import (
    KEY_ID_PATTERN,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    AuditEntryOut,
    AuditQuery,
)

keys_router = APIRouter(
    prefix="/admin/keys",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ROLE_RESPONSES,
)
audit_router = APIRouter(
    prefix="/admin/audit",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ROLE_RESPONSES,
)


@audit_router.get("", summary="Third-party pulls, newest first, by key, view and time")
async def list_audit(query: Annotated[AuditQuery, Query()]) -> Page[AuditEntryOut]:
    return await service.audit_page(query)


@keys_router.post("", status_code=status.HTTP_201_CREATED, summary="Mint a partner API key")
async def create_key(data: ApiKeyCreate, response: Response) -> ApiKeyCreated:
    """The plaintext key is in this answer only (its SHA-256 is all that is stored)."""
    plaintext, key = await service.create_key(data.name, data.scopes, data.rate_limit)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Location"] = f"/v1/admin/keys/{key.key_id}"
    return ApiKeyCreated.model_validate({**key.model_dump(), "key": plaintext})


@keys_router.get("", summary="Every partner key, live and revoked (never a secret)")
async def list_keys() -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(key) for key in await service.list_keys()]


@keys_router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a key",
    responses={404: {"description": "No live key with this id"}},
)
async def revoke_key(key_id: Annotated[str, Path(pattern=KEY_ID_PATTERN)]) -> None:
    """Refused at once by processes without the key cached, within
    `PARTNERS_KEY_CACHE_TTL_S` by those with it."""
    if not await service.revoke_key(key_id):
        raise NotFoundError(f"no live API key with id {key_id}")
