"""The API docs work on an estate intranet with no internet: Swagger UI and ReDoc, their
scripts and styles all come from the server itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.web.conftest import DESKTOP, Shots
from tests.web.stack import Stack

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


def requests_of(page: Page) -> list[str]:
    seen: list[str] = []

    def record(request: Request) -> None:
        seen.append(request.url)

    page.on("request", record)
    return seen


def elsewhere(urls: list[str], stack: Stack) -> list[str]:
    return [url for url in urls if not url.startswith(stack.url + "/")
            and not url.startswith(("data:", "blob:"))]


def test_swagger_ui_loads_nothing_from_elsewhere(desktop: Page, stack: Stack,
                                                 shots: Shots) -> None:
    urls = requests_of(desktop)
    response = desktop.goto(stack.url + "/docs")
    assert response is not None
    assert "script-src" not in response.headers["content-security-policy"]
    expect(desktop.locator(".swagger-ui .info .title")).to_contain_text("EstateOps API")
    expect(desktop.locator(".opblock-tag", has_text="work orders")).to_be_visible()
    shots.take(desktop, "swagger", full_page=False)
    assert f"{stack.url}/openapi.json" in urls
    assert elsewhere(urls, stack) == []


def test_redoc_loads_nothing_from_elsewhere(desktop: Page, stack: Stack, shots: Shots) -> None:
    """ReDoc's bundle asks for its maker's logo from a CDN; the page's CSP refuses it, so the
    browser never sends it. Every request that left the page was served by the server."""
    blocked: list[str] = []
    desktop.on("requestfailed", lambda request: blocked.append(
        f"{request.url} {request.failure}"))
    finished: list[str] = []
    desktop.on("requestfinished", lambda request: finished.append(request.url))
    desktop.goto(stack.url + "/redoc")
    expect(desktop.locator("h1", has_text="EstateOps API")).to_be_visible(timeout=15000)
    shots.take(desktop, "redoc", full_page=False)
    assert elsewhere(finished, stack) == []
    assert all(line.endswith(" csp") for line in blocked if stack.url not in line), blocked


def test_only_listed_assets_are_served(desktop: Page, stack: Stack) -> None:
    for path in ("/static/../pages.py", "/static/%2e%2e/pages.py", "/static/vendor/VERSIONS",
                 "/static/index.html", "/static/js/../../pages.py"):
        response = desktop.request.get(stack.url + path)
        assert response.status == 404, path
    assert desktop.request.get(stack.url + "/static/vendor/alpine-csp.min.js").ok
