"""/docs and /redoc work offline: every URL on the pages is the server's own, and served."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx
import pytest

from beatstream.apidocs import ASSETS

# Every URL-valued attribute, and anything that names a scheme or a protocol-relative host.
ATTRIBUTE_URL = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""")
EXTERNAL = re.compile(r"""(?:https?:)?//[\w.-]+""")
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_page_names_no_external_url_and_every_asset_it_names_is_served(
    anon_client: httpx.AsyncClient, page: str
) -> None:
    response = await anon_client.get(page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert EXTERNAL.findall(response.text) == []
    urls = ATTRIBUTE_URL.findall(response.text)
    assets = [url for url in urls if url.startswith("/docs/assets/")]
    assert len(assets) >= 2  # the script and the favicon at least
    for url in assets:
        asset = await anon_client.get(url)
        assert asset.status_code == 200, url
        expected = CONTENT_TYPES[url[url.rindex(".") :]]
        assert asset.headers["content-type"].split(";")[0] == expected, url
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert len(asset.content) > 500, url


async def test_swagger_ui_finds_the_openapi_document_and_no_online_validator(
    anon_client: httpx.AsyncClient,
) -> None:
    page = (await anon_client.get("/docs")).text

    assert "url: '/openapi.json'" in page
    assert '"validatorUrl": null' in page
    redirect = await anon_client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert EXTERNAL.findall(redirect.text) == []


async def test_an_unknown_asset_is_a_404_problem(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/docs/assets/..%2Fsettings.py")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_vendored_files_are_those_the_manifest_records() -> None:
    """A hand edit (or a half-finished `make vendor`) shows here, with its file."""
    manifest = json.loads((ASSETS / "manifest.json").read_text())
    for folder, entry in manifest.items():
        assert (ASSETS / folder / "LICENSE").is_file()
        on_disk = {p.name for p in (ASSETS / folder).iterdir()}
        assert on_disk == set(entry["files"])
        for name, digest in entry["files"].items():
            assert hashlib.sha256((ASSETS / folder / name).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_the_page_may_load_only_from_this_origin_and_its_own_inline_scripts(
    anon_client: httpx.AsyncClient, page: str
) -> None:
    response = await anon_client.get(page)

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    sources = policy["script-src"].split()
    assert sources[0] == "'self'"
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    hashes = [
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in inline
    ]
    assert sources[1:] == hashes
    for directive in policy.values():
        assert EXTERNAL.findall(directive) == []
