"""Quick exit (issue 19) in Chromium, by the button and by Shift x3: the tab lands on a neutral
public page (stubbed here: the tests have no internet), the old session token is refused by the
server, the wallet's storage is empty, and no page reached with Back shows the handle, a
document title or a journal line: a wallet page loaded again shows only the login page."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import menu_link, register
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import ApiClient, Vault

NEUTRAL = "https://www.wikipedia.org/"
TITLE = "Shelter attestation"


def stub_neutral_page(page: Page) -> None:
    page.context.route(
        re.compile(r"^https://www\.wikipedia\.org/.*"),
        lambda route: route.fulfill(status=200, content_type="text/html",
                                    body="<!doctype html><title>Wikipedia</title><p>Free encyclopedia"),
    )  # fmt: skip


def visible_text(page: Page) -> str:
    return page.evaluate("() => document.title + ' ' + (document.body?.innerText || '')")


@pytest.mark.parametrize("how", ["button", "shift"])
def test_quick_exit_leaves_no_trace(
    page: Page, web_server: LiveServer, tmp_path: Path, how: str
) -> None:
    stub_neutral_page(page)
    handle = f"exit-{secrets.token_hex(4)}"
    register(page, handle)
    vault = Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)
    paper = tmp_path / "paper.pdf"
    paper.write_bytes(b"%PDF-1.4 attestation")
    vault.upload(paper, "other", TITLE)
    # Walk through a few owner pages (soft navigation adds history entries).
    for name in ("My documents", "Journal", "My documents"):
        menu_link(page, name).click()
        page.locator("main[data-ready]").wait_for(state="attached")
    expect(page.locator("main")).to_contain_text(TITLE)
    # What a page could have left behind in the other stores.
    page.evaluate(
        """async () => { sessionStorage.setItem('x', '1');
             await new Promise((ok) => { const r = indexedDB.open('wallet-test'); r.onsuccess = () => { r.result.close(); ok(); }; });
             await (await caches.open('wallet-test')).put('/x', new Response('x')); }"""
    )
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "wallet_session")

    if how == "button":
        page.locator("[data-quick-exit]").click()
    else:
        for _ in range(3):
            page.keyboard.press("Shift")
    page.wait_for_url(NEUTRAL)

    # The server session ends without the page waiting for it: poll the old token.
    deadline = time.monotonic() + 60
    while True:
        status = httpx.get(
            f"{web_server.url}/api/v1/accounts/me", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        if status == 401 or time.monotonic() > deadline:
            break
    assert status == 401

    # Back, as far as it goes: nothing of the wallet shows.
    wallet_pages = 0
    for _ in range(6):
        page.go_back(wait_until="load")
        if page.url.startswith(web_server.url):
            page.locator("main[data-ready]").wait_for(state="attached")
            page.wait_for_load_state("networkidle")
            text = visible_text(page)
            assert handle not in text and TITLE not in text
            assert "You added" not in text and "Logged in as" not in text
            wallet_pages += 1
            expect(page.locator("main[data-page=login]")).to_be_attached()
            stores = page.evaluate(
                """async () => [localStorage.length, sessionStorage.length,
                     (await indexedDB.databases()).length, (await caches.keys()).length]"""
            )
            assert stores == [0, 0, 0, 0]
    assert wallet_pages >= 2
