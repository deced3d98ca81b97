"""/docs and /redoc, turned on by the operator, in Chromium: they render the wallet's API and
load nothing from another address. ReDoc's menu always asks for its maker's logo from a CDN;
the page's CSP refuses it (Chromium reports the refusal as a console error), which is the only
error allowed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DESKTOP, PageProblems, new_context
from tests.conftest import LiveServer, run_live_server

TITLE = "Personal document wallet"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    extra = {"WALLET_API_DOCS": "true"}
    with run_live_server(tmp_path_factory.mktemp("apidocs"), extra) as server:
        yield server


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_load_only_the_wallets_own_files(
    browser: Browser, docs_server: LiveServer, path: str, tmp_path: Path
) -> None:
    context = new_context(browser, docs_server, viewport=DESKTOP)
    loaded: list[str] = []  # what got an answer: a load the CSP refused never leaves
    context.on("response", lambda response: loaded.append(response.url))
    try:
        page = context.new_page()
        problems = PageProblems()
        problems.watch(page)
        page.goto(path)
        if path == "/docs":
            expect(page.locator(".swagger-ui .info .title")).to_contain_text(TITLE)
            expect(page.locator(".opblock").first).to_be_visible()
        else:
            expect(page.locator("h1").first).to_contain_text(TITLE)
            expect(page.get_by_text("/api/v1/auth/login").first).to_be_attached()
        page.screenshot(path=str(tmp_path / "docs.png"))
    finally:
        context.close()
    assert f"{docs_server.url}{path}" in loaded
    foreign = [url for url in loaded if not url.startswith((docs_server.url, "data:", "blob:"))]
    assert foreign == []
    others = [
        e for e in problems.errors if not ("Content Security Policy" in e and REDOC_LOGO in e)
    ]
    assert others == []
