"""/docs (Swagger UI) and /redoc (ReDoc), served with their assets from this package.

FastAPI's own pages load their scripts, styles and favicon from a CDN (and ReDoc's
fonts from Google), so without internet they are blank. These are the same pages
(FastAPI's `get_swagger_ui_html` / `get_redoc_html`) pointed at files vendored from
npm at pinned versions (`assets/`, licences beside them; `make vendor-docs`,
tools/vendor_docs.py), served from `/docs/assets/`: no URL on either page leaves
the server. The app is created with `docs_url=None, redoc_url=None` and calls
`install_docs`. The rate limiter exempts `/docs` and `/redoc` (so the assets too).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from beatstream.errors import NotFoundError

ASSETS = Path(__file__).parent / "assets"
ASSET_PREFIX = "/docs/assets"
JS = "text/javascript; charset=utf-8"
# The file each asset URL serves, and its type (declared: `nosniff` holds the browser
# to it, so a script served as anything else would not run).
FILES: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (ASSETS / "swagger-ui" / "swagger-ui-bundle.js", JS),
    "swagger-ui.css": (ASSETS / "swagger-ui" / "swagger-ui.css", "text/css; charset=utf-8"),
    "favicon.png": (ASSETS / "swagger-ui" / "favicon-32x32.png", "image/png"),
    "redoc.standalone.js": (ASSETS / "redoc" / "redoc.standalone.js", JS),
}
# Vendored versions change only with a release of the package, so a day is safe.
ASSET_CACHE_CONTROL = "public, max-age=86400"


def _root(request: Request) -> str:
    """The mount point behind a proxy (`--root-path`), as FastAPI's own pages use it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def install_docs(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or f"{docs_url}/oauth2-redirect"

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSET_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSET_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSET_PREFIX}/favicon.png",
            oauth2_redirect_url=root + oauth2_redirect_url,
            init_oauth=app.swagger_ui_init_oauth,
            # Never send the document to the public online validator.
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )

    @app.get(oauth2_redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSET_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSET_PREFIX}/favicon.png",
            with_google_fonts=False,
        )

    @app.get(ASSET_PREFIX + "/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in FILES:
            raise NotFoundError(f"no documentation asset named {name!r}")
        path, media_type = FILES[name]
        return FileResponse(
            path, media_type=media_type, headers={"Cache-Control": ASSET_CACHE_CONTROL}
        )
