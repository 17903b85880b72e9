"""Thin HTTP layer of `/v1/thirdparty/{view}`: key and scope, query checks, then a
cached JSON page, a feed page or a streamed NDJSON export, and one audit row per pull.

The partner dependency checks the key before anything else, so an unknown view is a
404 only for a valid key (the list of views is not probe-able without one).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from beatstream.cache.dependencies import CacheDep, IfNoneMatch
from beatstream.cache.http import cache_headers, not_modified
from beatstream.cache.namespaces import CacheNamespace
from beatstream.deps import SettingsDep
from beatstream.partners.dependencies import ViewPartner
from beatstream.partners.service import record_pull
from beatstream.partners.views import service
from beatstream.partners.views.definitions import ViewName
from beatstream.partners.views.dependencies import PseudonymsDep, ViewsDep
from beatstream.partners.views.schemas import ChangesPage, ViewFormat, ViewPage, ViewQuery
from beatstream.problems import request_id_of

router = APIRouter(prefix="/thirdparty", tags=["thirdparty"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page (JSON), or with `format=ndjson` the whole view, one row per line.",
        "content": {"application/x-ndjson": {}},
    },
    304: {"description": "Not modified: the If-None-Match ETag is current"},
    401: {"description": "Missing, malformed, unknown or revoked X-API-Key"},
    403: {"description": "The key's scopes do not include this view"},
    404: {"description": "No view of that name"},
    429: {"description": "Over the key's rate limit; see Retry-After"},
}


def _filters(query: ViewQuery) -> dict[str, str]:
    """The pull's parameters as the audit log keeps them (cursors abbreviated)."""
    filters = {"limit": str(query.limit)} if query.format is ViewFormat.JSON else {}
    for name in ("cursor", "changes_since"):
        value = getattr(query, name)
        if value is not None:
            filters[name] = value[:24]
    return filters


@router.get(
    "/{view}",
    response_model=ViewPage | ChangesPage,
    responses=RESPONSES,
    summary="Read a masked view: a page, the change feed, or an NDJSON export",
)
async def read_view(
    view: str,
    partner: ViewPartner,
    query: Annotated[ViewQuery, Query()],
    request: Request,
    active: ViewsDep,
    pseudonyms: PseudonymsDep,
    cache: CacheDep,
    settings: SettingsDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """`listener_actions`, `subscriptions_by_month` or `play_stats`: only listeners who
    consented, no personal field, dates no finer than a month (a week for plays), and
    aggregate rows only over at least `THIRDPARTY_MIN_GROUP_SIZE` listeners."""
    name = ViewName(view)
    service.check_query(name, query)
    request_id = request_id_of(request)
    filters = _filters(query)
    if query.format is ViewFormat.NDJSON:
        lines = service.audited_export(active, name, partner, filters, request_id)
        return StreamingResponse(lines, media_type="application/x-ndjson")
    if query.changes_since is not None:
        position = service.feed_position(pseudonyms, query.changes_since)

        async def compute() -> bytes:
            return await service.changes_body(active, pseudonyms, position, query.limit)
    else:
        after = service.page_after(pseudonyms, name, query.cursor)

        async def compute() -> bytes:
            return await service.page_body(active, pseudonyms, name, after, query.limit)

    ttl_s = settings.thirdparty.cache_ttl_s
    params = {"view": name, **query.model_dump(mode="json")}
    cached = await cache.get_or_compute(CacheNamespace.THIRDPARTY, params, ttl_s, compute)
    await record_pull(
        partner,
        view=name,
        filters=filters,
        rows=service.rows_in(cached.body),
        fmt=query.format,
        request_id=request_id,
    )
    # Private, and revalidated every time: a copy kept by a proxy or client could not be
    # invalidated when a listener in it withdraws consent; a 304 costs one round trip.
    headers = {**cache_headers(cached, ttl_s), "Cache-Control": "private, no-cache"}
    headers.pop("Age", None)
    if not_modified(if_none_match, cached):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=cached.body, media_type="application/json", headers=headers)
