"""The API's documentation at /docs, in a real Chromium: Swagger UI 5 from our own static
files (no CDN) reads the OpenAPI 3.1 that FastAPI writes and lists the operations (Swagger UI
4, from swagger-ui-bundle 1.1.0, said "Unable to render this definition")."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.entrypoints.web.conftest import WebServer


def test_the_docs_show_the_operations(page: Page, web: WebServer) -> None:
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(web.base) else None
        ),
    )
    page.goto(web.url("/docs"))
    quotes = page.locator(".opblock-summary-path", has_text="/api/v1/quotes").first
    expect(quotes).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    expect(page.locator(".info .title")).to_contain_text("Podpiska")
    assert page.locator(".opblock").count() > 20
    page.locator(".opblock-summary", has_text="/api/v1/quotes").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert outside == [], outside  # every file from this server
