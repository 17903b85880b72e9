"""`GET /dashboard`: the search dashboard's one page, and its static assets.

Progressive enhancement: the server renders the search form, facets (as links), the
first page of results and the pager from the query string, so plain search works with
JavaScript off. With JavaScript on, `dashboard.js` takes over: it reads the same query
string, calls only the public `/v1` endpoints, and keeps every change in the URL.

Not part of the `/v1` API: the page is HTML for people, so it stays out of the
OpenAPI document. Its Content-Security-Policy allows only this origin's scripts,
styles and requests: the browser talks to the API, never to Elasticsearch or a CDN.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from beatstream import __version__
from beatstream.cache.dependencies import CacheDep
from beatstream.dashboard.service import COUNTRIES, PAGE_SIZE, first_page, parse_query
from beatstream.deps import EsDep, SettingsDep
from beatstream.errors import InvalidInputError, StoreUnavailableError
from beatstream.search.schemas import SearchSort

HERE = Path(__file__).parent
STATIC_PATH = "/dashboard/static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")


def highlighted(fragment: str) -> Markup:
    """A search highlight as HTML: everything escaped, then only `<em>` restored
    (Elasticsearch returns the stored text unescaped, so a title is never markup)."""
    text = str(escape(fragment))
    # Safe: every character came through `escape`; only the literal em tags are restored.
    return Markup(text.replace("&lt;em&gt;", "<em>").replace("&lt;/em&gt;", "</em>"))  # noqa: S704


# What changes the results starts again at their first page.
PAGING_KEYS = ("cursor", "page")


def url_with(params: Mapping[str, str], **changes: str | int | None) -> str:
    """`/dashboard?...`: this page's query with `changes` applied (None removes a key),
    back at the first page of results. Empty values are dropped, so URLs stay short."""
    query = {k: v for k, v in params.items() if v and k not in PAGING_KEYS}
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = str(value)
    return "/dashboard" + ("?" + urlencode(query) if query else "")


templates.env.filters["highlighted"] = highlighted
templates.env.globals["url_with"] = url_with


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request, es: EsDep, settings: SettingsDep, cache: CacheDep
) -> Response:
    """The page, its first page of results rendered here (no JavaScript needed)."""
    params = request.query_params
    page = parse_query(params)
    status, unavailable = 200, None
    if page.query is not None:
        try:
            page.result = await first_page(es, settings.elasticsearch, cache, page.query)
        except InvalidInputError as exc:
            page.errors.append({"field": exc.field, "detail": exc.extra["errors"][0]["message"]})
        except StoreUnavailableError as exc:
            status, unavailable = 503, exc.detail
    if page.errors:
        status = 422
    sorts: list[SearchSort] = ["relevance", "-views", "views", "-year", "year"]
    response = templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "params": params,
            "page": page,
            "unavailable": unavailable,
            "countries": COUNTRIES,
            "sorts": sorts,
            "page_size": PAGE_SIZE,
            "page_number": int(params["page"]) if params.get("page", "").isdigit() else 1,
            "static": STATIC_PATH,
            "version": __version__,
        },
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = CSP
    if unavailable:
        response.headers["Retry-After"] = "5"
    return response


def mount_dashboard(app: FastAPI) -> None:
    """The page and its static files (templates and assets ship inside the package)."""
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="dashboard-static")
