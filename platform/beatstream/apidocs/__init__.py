"""/docs (Swagger UI) and /redoc (ReDoc), served with their assets from this package.

FastAPI's own pages load their scripts, styles and favicon from a CDN (and ReDoc's
fonts from Google), so without internet they are blank. These are the same pages
(FastAPI's `get_swagger_ui_html` / `get_redoc_html`) pointed at files vendored from
npm at pinned versions (`assets/`, licences beside them; `make vendor`,
tools/vendor_docs.py), served from `/docs/assets/`: no URL on either page leaves
the server. The app is created with `docs_url=None, redoc_url=None` and calls
`install_docs`. The rate limiter exempts `/docs` and `/redoc` (so the assets too).

Each page also carries a Content-Security-Policy that lets it load only from this
origin: scripts from `/docs/assets/` plus the page's own inline start-up script, by
hash (the page is generated, so the hash is computed from it); styles may be inline
(both UIs set them at run time) and ReDoc runs its search in a `blob:` worker.
Checked in headless Chromium with every other host unresolvable: both pages render.
"""

from __future__ import annotations

import base64
import hashlib
import re
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


INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
POLICY = (
    "default-src 'none'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def with_policy(page: HTMLResponse) -> HTMLResponse:
    """`page` with a CSP allowing this origin and, by hash, the page's inline scripts."""
    html = bytes(page.body).decode()
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(html)
    )
    page.headers["Content-Security-Policy"] = POLICY.format(hashes=hashes)
    return page


def _root(request: Request) -> str:
    """The mount point behind a proxy (`--root-path`), as FastAPI's own pages use it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def install_docs(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or f"{docs_url}/oauth2-redirect"

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_swagger_ui_html(
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
        return with_policy(page)

    @app.get(oauth2_redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return with_policy(get_swagger_ui_oauth2_redirect_html())

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSET_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSET_PREFIX}/favicon.png",
            with_google_fonts=False,
        )
        return with_policy(page)

    @app.get(ASSET_PREFIX + "/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in FILES:
            raise NotFoundError(f"no documentation asset named {name!r}")
        path, media_type = FILES[name]
        return FileResponse(
            path, media_type=media_type, headers={"Cache-Control": ASSET_CACHE_CONTROL}
        )
