"""The account page in Chromium: the own safety code, a passphrase change (the keys locked again
in the browser; other sessions end; the Python client logs in with the new passphrase only),
and deleting the wallet (nobody can log in afterwards, the documents' keys are gone)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, axe_violations, menu_link, register, screenshot
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client.api import ApiClient, ApiError
from wallet.client.contacts import own_safety_code
from wallet.client.vault import Vault

NEW_PASSPHRASE = "purple kettle beside seven quiet lanterns"


def open_account(page: Page) -> None:
    menu_link(page, "My account").click()
    page.wait_for_url("**/account")
    page.locator("main[data-page=account][data-ready]").wait_for(state="attached")


def test_change_passphrase_by_keyboard_then_python_logs_in_with_the_new_one(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    handle = f"acc{secrets.token_hex(4)}"
    register(page, handle)
    other_device = Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)
    paper = tmp_path / "p.txt"
    paper.write_text("kept", encoding="utf-8")
    doc_id, _ = other_device.upload(paper, "other", "Kept paper", media_type="text/plain")
    open_account(page)
    expect(page.locator("[data-own-code]")).to_have_text(own_safety_code(other_device))
    assert axe_violations(page) == []
    screenshot(page, "account")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "account")
    page.set_viewport_size(PHONE)

    # A wrong current passphrase changes nothing, and says so.
    page.locator("#current-passphrase").fill("not my passphrase at all")
    page.locator("#new-passphrase").fill(NEW_PASSPHRASE)
    page.locator("#new-passphrase-again").fill(NEW_PASSPHRASE)
    page.locator("form[data-passphrase] button[type=submit]").click()
    expect(page.locator("form[data-passphrase] [data-error]")).to_contain_text("not right")

    # Keyboard only: type, Tab to the next field, Enter sends.
    page.locator("#current-passphrase").fill("")
    page.locator("#current-passphrase").focus()
    page.keyboard.type(TEST_PASSPHRASE)
    page.keyboard.press("Tab")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(NEW_PASSPHRASE)
    page.keyboard.press("Tab")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(NEW_PASSPHRASE)
    page.keyboard.press("Enter")
    expect(page.locator("form[data-passphrase] [data-status]")).to_contain_text(
        "passphrase is changed"
    )
    assert page.locator("#current-passphrase").input_value() == ""

    # The other session ended; the old passphrase no longer opens the wallet; the new one does.
    with pytest.raises(ApiError) as ended:
        other_device.api.api("GET", "/accounts/me")
    assert ended.value.status == 401
    with pytest.raises(ApiError):
        Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)
    again = Vault.login(ApiClient(web_server.url), handle, NEW_PASSPHRASE)
    again.download(doc_id, tmp_path / "back.txt")
    assert (tmp_path / "back.txt").read_text(encoding="utf-8") == "kept"
    # This tab stays open with its new session.
    menu_link(page, "My documents").click()
    expect(page.locator("main[data-page=documents]")).to_contain_text("Kept paper")


def test_delete_account_needs_a_plain_confirmation_and_ends_everything(
    page: Page, web_server: LiveServer
) -> None:
    handle = f"del{secrets.token_hex(4)}"
    register(page, handle)
    open_account(page)
    delete = page.locator("form[data-delete]")
    expect(page.locator("main")).to_contain_text("This cannot be undone.")
    delete.locator("#delete-passphrase").fill(TEST_PASSPHRASE)
    delete.locator("button[type=submit]").click()
    expect(delete.locator("[data-error]")).to_contain_text("Tick the box first")
    delete.locator("#delete-understood").check()
    delete.locator("#delete-passphrase").fill("wrong words here for sure")
    delete.locator("button[type=submit]").click()
    expect(delete.locator("[data-error]")).to_contain_text("not right")
    Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)  # still there

    delete.locator("#delete-passphrase").fill(TEST_PASSPHRASE)
    delete.locator("button[type=submit]").click()
    expect(page.locator("[data-deleted]")).to_have_text("Your wallet is deleted")
    assert axe_violations(page) == []
    with pytest.raises(ApiError):
        Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)
    page.goto("/login")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("form[data-login] button[type=submit]").click()
    expect(page.locator("form[data-login] [data-error]")).to_be_visible()
    assert "/documents" not in page.url
