"""The emergency reset from a public computer (issue 19): reached from the kiosk's start page,
done there, it ends the owner's other session and link; "End session" then leaves nothing of
it behind, not even the new recovery key shown once."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_kiosk import assert_nothing_left, kiosk_page, owner_with_documents
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client.api import ApiClient, ApiError
from wallet.client.links import create_link, open_link
from wallet.client.vault import Vault, VaultError

__all__ = ["kiosk_page"]  # the fixture, shared with test_kiosk.py

NEW_PASSPHRASE = "green bicycle under the kiosk rain"


def test_emergency_reset_from_the_kiosk(
    kiosk_page: Any, web_server: LiveServer, tmp_path: Path
) -> None:
    context, page = kiosk_page
    canary = f"Reset-canary-{secrets.token_hex(6)}"
    phone, [doc_id] = owner_with_documents(web_server, tmp_path, [canary])  # his phone
    handle = phone.account["handle"]
    link = create_link(phone, [doc_id], uses=5)
    assert open_link(link.url, tmp_path / "before", api=ApiClient(web_server.url)).files

    page.goto("/kiosk?idle=600")
    expect(page.locator("[data-kiosk-bar]")).to_be_visible()
    page.locator("[data-kiosk-reset]").click()
    page.wait_for_url("**/login?next=/safety")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("form[data-login] button[type=submit]").click()
    page.wait_for_url("**/safety")
    page.locator("main[data-page=safety][data-ready]").wait_for(state="attached")
    # Still the kiosk: its bar and countdown stay, and the reset link is on every page.
    expect(page.locator("[data-kiosk-bar]")).to_be_visible()
    expect(page.locator("[data-quick-exit-box] a[href='/safety']")).to_be_visible()

    page.locator("#reset-current").fill(TEST_PASSPHRASE)
    page.locator("#reset-new").fill(NEW_PASSPHRASE)
    page.locator("#reset-again").fill(NEW_PASSPHRASE)
    page.locator("form[data-reset] [data-submit]").click()
    result = page.locator("[data-result]")
    expect(result).to_be_visible()
    new_sheet = result.locator("[data-recovery-key]").inner_text().strip()
    assert new_sheet.startswith("WR1-")

    with pytest.raises(ApiError):
        phone.api.api("GET", "/accounts/me")
    with pytest.raises((ApiError, VaultError)):
        open_link(link.url, tmp_path / "after", api=ApiClient(web_server.url))
    with pytest.raises((ApiError, VaultError)):
        Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)
    fresh = Vault.login(ApiClient(web_server.url), handle, NEW_PASSPHRASE)
    assert [d.title for d in fresh.list_documents()] == [canary]

    # Ending the kiosk session forgets everything, the new recovery key included.
    page.get_by_role("button", name="End session").click()
    page.wait_for_url("**/kiosk?ended=ended*")
    assert_nothing_left(context, page, [canary, handle, new_sheet])
