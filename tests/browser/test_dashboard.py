"""The dashboard's user-visible behaviour in headless Chromium over seeded real stores.

Every number the page shows is compared with what the public API answers for the same
query (or with the seeded rows), never with a constant copied from the page.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.async_api import Browser, Page

from tests.browser.conftest import AXE, Seeded, Served, ready, settle

pytestmark = pytest.mark.browser
REMOVE = "\N{MULTIPLICATION SIGN}"  # the pills' remove mark


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


async def shown_total(page: Page) -> str:
    return await page.inner_text("#total")


def api_total(served: Served, **params: object) -> str:
    body = served.api("/v1/search/songs", **params)
    count = f"{body['total']:,} song{'' if body['total'] == 1 else 's'}"
    return count if body["total_is_exact"] else f"At least {count}"


async def test_a_misspelt_title_finds_the_song(page: Page, served: Served) -> None:
    await ready(page, f"{served.url}/dashboard")

    await page.fill("#q", "uptwon fnk")
    await page.press("#q", "Enter")
    await settle(page)

    assert query_of(page)["q"] == ["uptwon fnk"]
    assert await page.inner_text("#rows tr:first-child td:first-child") == "Uptown Funk"
    assert await page.locator("#rows tr:first-child em").count() > 0  # matched words highlighted


async def test_typeahead_is_keyboard_navigable_and_marks_the_match(
    page: Page, served: Served
) -> None:
    await ready(page, f"{served.url}/dashboard")

    await page.type("#q", "upto")
    await page.wait_for_selector("#suggestions li[role=option]")
    assert await page.inner_text("#suggestions li:first-child mark") == "Upto"
    await page.press("#q", "ArrowDown")
    assert await page.get_attribute("#q", "aria-activedescendant") == "suggestion-0"
    await page.press("#q", "Enter")
    await settle(page)

    assert query_of(page)["q"] == ["Uptown Funk"]
    assert await page.get_attribute("#q", "aria-expanded") == "false"
    assert await page.inner_text("#rows tr:first-child td:first-child") == "Uptown Funk"


async def test_next_page_follows_the_api_cursor(page: Page, served: Served) -> None:
    first = served.api("/v1/search/songs", limit=20)
    second = served.api("/v1/search/songs", limit=20, cursor=first["next_cursor"])
    await ready(page, f"{served.url}/dashboard")

    await page.click("#pager a[rel=next]")
    await settle(page)

    assert query_of(page)["page"] == ["2"]
    titles = await page.locator("#rows tr td:first-child").all_inner_texts()
    assert titles == [hit["title"] for hit in second["items"]]


async def test_a_facet_click_updates_results_url_and_count_and_back_restores(
    page: Page, served: Served
) -> None:
    await ready(page, f"{served.url}/dashboard?q=night")
    before_total, before_rows = await shown_total(page), await page.inner_text("#rows")
    genre = served.api("/v1/search/songs", q="night")["facets"]["genres"][0]["genre"]

    await page.click(f"#genre-facets a:has-text('{genre}')")
    await settle(page)

    assert query_of(page) == {"q": ["night"], "genre": [genre]}
    assert await shown_total(page) == api_total(served, q="night", genre=genre, limit=20)
    assert set(await page.locator("#rows tr td:nth-child(6)").all_inner_texts()) == {genre}
    assert (
        await page.get_attribute(f"#genre-facets a:has-text('{genre}')", "aria-current") == "true"
    )
    assert await page.locator("#pills .pill").all_inner_texts() == [f"Genre: {genre} {REMOVE}"]

    await page.go_back()
    await settle(page)

    assert query_of(page) == {"q": ["night"]}
    assert (await shown_total(page), await page.inner_text("#rows")) == (before_total, before_rows)
    assert await page.locator("#pills .pill").count() == 0
    assert await page.input_value("#q") == "night"


async def test_a_bookmarked_url_reproduces_the_view(page: Page, served: Served) -> None:
    url = f"{served.url}/dashboard?q=night&sort=-year&year_from=1990&country=IT&interval=week"
    expected = served.api("/v1/search/songs", q="night", sort="-year", year_from=1990, limit=20)

    await ready(page, url)

    titles = await page.locator("#rows tr td:first-child").all_inner_texts()
    assert titles == [hit["title"] for hit in expected["items"]]
    assert await page.input_value("#q") == "night"
    assert await page.input_value("#year_from") == "1990"
    assert await page.input_value("#sort") == "-year"
    assert await page.input_value("#country") == "IT"
    assert await page.is_checked("#interval-week")
    assert await page.get_attribute("th:has-text('Year')", "aria-sort") == "descending"
    top = served.api("/v1/analytics/top-artists", country="IT", limit=10)["items"]
    shown = await page.locator("#top-artists .bars .label").all_inner_texts()
    assert shown == [a["artist_name"] for a in top]


async def test_a_top_artists_bar_click_filters_the_results(page: Page, served: Served) -> None:
    await ready(page, f"{served.url}/dashboard")
    top = served.api("/v1/analytics/top-artists", limit=10)["items"][0]

    await page.click("#top-artists .bars li:first-child button")
    await settle(page)

    assert query_of(page)["artist"] == [top["artist_id"]]
    assert await shown_total(page) == api_total(served, artist=top["artist_id"], limit=20)
    artists = await page.locator("#rows tr td:nth-child(2)").all_inner_texts()
    assert set(artists) == {top["artist_name"]}
    assert await page.locator("#pills .pill").all_inner_texts() == [
        f"Artist: {top['artist_name']} {REMOVE}"
    ]


async def test_the_plays_chart_has_a_bucket_per_day_of_a_30_day_range(
    page: Page, served: Served, seeded: Seeded
) -> None:
    """February 2024 (29 days) and 1 March: 30 days, both ends inclusive on the page."""
    await ready(page, f"{served.url}/dashboard?from=2024-02-01&to=2024-03-01&interval=day")

    assert await page.get_attribute("#plays", "data-buckets") == "30"
    cells = await page.locator("#plays .plays-table tbody tr td:last-child").all_text_contents()
    in_range = [
        p for p in seeded.plays if "2024-02-01" <= p["played_at"].isoformat() < "2024-03-02"
    ]
    assert len(cells) == 30
    assert sum(int(c.replace(",", "")) for c in cells) == len(in_range)
    assert await page.locator("#plays canvas").count() == 1  # uPlot drew it


async def test_elasticsearch_down_shows_a_banner_and_the_page_stays_usable(
    page: Page, served_without_es: Served
) -> None:
    await page.goto(f"{served_without_es.url}/dashboard?q=funk")
    await page.wait_for_selector("body[data-ready=true]")
    await settle(page)

    banner = page.locator("#banner")
    assert await banner.is_visible()
    assert "503" in await banner.inner_text()
    assert "Search" in await banner.inner_text()
    assert "Top artists" in await banner.inner_text()

    await page.fill("#q", "soul")
    await page.press("#q", "Enter")
    await settle(page)
    await page.check("#interval-month")
    await settle(page)

    assert query_of(page) == {"q": ["soul"], "interval": ["month"]}
    assert await banner.is_visible()


async def test_plain_search_works_with_javascript_off(browser: Browser, served: Served) -> None:
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    try:
        await page.goto(f"{served.url}/dashboard")
        await page.fill("#q", "uptwon fnk")
        await page.click("#search button[type=submit]")
        await page.wait_for_url("**/dashboard?q=uptwon+fnk*")

        assert await page.inner_text("#rows tr:first-child td:first-child") == "Uptown Funk"
        assert await shown_total(page) == api_total(served, q="uptwon fnk", limit=20)

        await page.click("#genre-facets a:has-text('funk')")
        assert query_of(page)["genre"] == ["funk"]
        assert set(await page.locator("#rows tr td:nth-child(6)").all_inner_texts()) == {"funk"}
    finally:
        await context.close()


async def test_axe_finds_no_serious_or_critical_violations(
    browser: Browser, served: Served
) -> None:
    """axe-core (tests/browser/vendor, not shipped) injected into the full page; the
    page's CSP forbids injected scripts, so this context alone bypasses it."""
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    try:
        await ready(page, f"{served.url}/dashboard?q=night&genre=pop")
        await page.add_script_tag(path=str(AXE))
        violations = await page.evaluate(
            "async () => (await axe.run(document)).violations"
            ".filter(v => ['serious', 'critical'].includes(v.impact))"
            ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
        )
    finally:
        await context.close()

    assert violations == []
