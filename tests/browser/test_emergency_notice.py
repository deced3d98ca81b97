"""Emergency access on the documents page (issue 14, part 1): a request by the owner's trusted
person is shown after login, on a phone-sized screen, and one tap refuses it."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, login, screenshot
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import ApiClient, Vault
from wallet.client import emergency as emergencylib
from wallet.client.contacts import PinStore
from wallet.client.journal import fetch_entries


def test_the_owner_sees_a_request_at_login_and_refuses_it_in_one_tap(
    page: Page, web_server: LiveServer
) -> None:
    owner, _ = Vault.create_account(
        ApiClient(web_server.url), f"owner-{secrets.token_hex(4)}", TEST_PASSPHRASE
    )
    trusted, _ = Vault.create_account(
        ApiClient(web_server.url), f"sister-{secrets.token_hex(4)}", TEST_PASSPHRASE
    )
    added = emergencylib.add(
        owner, trusted.account["handle"], access="view", wait_days=7, pins=PinStore(None)
    )
    emergencylib.request(trusted, added.id)

    login(page, owner.account["handle"])
    notice = page.locator("[data-emergency]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(f"{trusted.account['handle']} asked for emergency access")
    assert page.viewport_size is not None and page.viewport_size["width"] <= 360
    assert axe_violations(page) == []
    screenshot(page, "emergency-notice")

    notice.get_by_role("button", name="Refuse").click()
    expect(notice).to_contain_text("Refused. Nothing was opened.")
    assert emergencylib.waiting(owner) == []
    assert "emergency_refused" in [e["event"] for e in fetch_entries(owner)]
