"""The language is remembered per account (sealed in the owner's profile record: the server
never sees it in clear) and, on a kiosk, per session only: the wipe forgets it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import WAIT_MS, PageProblems, login, new_context
from tests.browser.test_kiosk import KIOSK, owner_with_documents
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client.api import ApiClient
from wallet.client.vault import Vault


def stored_language(server: LiveServer, handle: str, expected: str) -> str | None:
    """The language the account holds, read by the Python client (it waits for the page)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        vault = Vault.login(ApiClient(server.url), handle, TEST_PASSPHRASE)
        value = vault.profile().get("language")
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_language_follows_the_account(
    page: Page, browser: Any, web_server: LiveServer, tmp_path: Path
) -> None:
    vault, _ids = owner_with_documents(web_server, tmp_path, ["Payslip"])
    handle = vault.account["handle"]
    login(page, handle)
    expect(page.locator("h1")).to_have_text("My documents")
    page.locator("#language-select").select_option("nl")
    page.locator("form[data-language] button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Mijn documenten")
    # Kept in the account as a sealed profile field, which the Python client opens.
    assert stored_language(web_server, handle, "nl") == "nl"

    # Another browser, another day: after login the wallet speaks Dutch again.
    other = new_context(browser, web_server)
    problems = PageProblems()
    try:
        tab = other.new_page()
        problems.watch(tab)
        login(tab, handle)
        expect(tab.locator("html")).to_have_attribute("lang", "nl")
        expect(tab.locator("h1")).to_have_text("Mijn documenten")
        lang_cookie = next(c for c in other.cookies() if c["name"] == "wallet_lang")
        assert lang_cookie["value"] == "nl"
    finally:
        other.close()
    assert not [e for e in problems.errors if "Failed to load resource" not in e]


def test_kiosk_language_lasts_for_the_session_only(
    browser: Any, web_server: LiveServer, tmp_path: Path
) -> None:
    vault, _ids = owner_with_documents(web_server, tmp_path, ["Payslip"])
    handle = vault.account["handle"]
    owner_vault = Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)
    context = new_context(browser, web_server, viewport=KIOSK)
    problems = PageProblems()
    try:
        page = context.new_page()
        problems.watch(page)
        page.goto("/kiosk?idle=600")
        page.locator("#language-select").select_option("de")
        page.locator("form[data-language] button[type=submit]").click()
        expect(page.locator("html")).to_have_attribute("lang", "de")
        page.get_by_role("link", name="Meine Brieftasche öffnen").click()
        page.wait_for_url("**/login")
        page.locator("#handle").fill(handle)
        page.locator("#passphrase").fill(TEST_PASSPHRASE)
        # After login the page reads the account's language from the profile; off a kiosk it
        # would save its own right after.
        with page.expect_response(
            lambda r: r.url.endswith("/api/v1/profile") and r.request.method == "GET"
        ):
            page.locator("form[data-login] button[type=submit]").click()
        page.wait_for_url("**/documents")
        expect(page.locator("h1")).to_have_text("Meine Dokumente")
        # Chosen on a kiosk: not saved to the account.
        page.wait_for_load_state("networkidle")
        assert owner_vault.profile().get("language") is None
        lang_cookie = next(c for c in context.cookies() if c["name"] == "wallet_lang")
        assert lang_cookie["expires"] == -1
        page.get_by_role("button", name="Sitzung beenden").click()
        page.wait_for_url("**/kiosk?*")
        expect(page.locator("html")).to_have_attribute("lang", "en")  # the browser's own
        assert not [c for c in context.cookies() if c["name"] == "wallet_lang"]
    finally:
        context.close()
    assert not [e for e in problems.errors if "Failed to load resource" not in e]
