"""The emergency reset screen in Chromium (issue 19): a second session, a 5-use link and a
grant work before; after "Reset now" each fails, the old passphrase and recovery sheet are
refused, and the new passphrase and the new recovery key shown once open the papers."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, register, screenshot
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import ApiClient, Vault
from wallet.client.api import ApiError
from wallet.client.contacts import PinStore
from wallet.client.grants import create_grant, received_documents
from wallet.client.links import create_link, open_link
from wallet.client.vault import VaultError

NEW_PASSPHRASE = "green bicycle under the autumn rain"


def test_reset_screen_ends_every_way_in(page: Page, web_server: LiveServer, tmp_path: Path) -> None:
    handle = f"reset-{secrets.token_hex(4)}"
    old_sheet = register(page, handle)
    phone = Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)  # his phone
    paper = tmp_path / "lease.pdf"
    paper.write_bytes(b"%PDF-1.4 lease")
    document_id, _ = phone.upload(paper, "lease", "Lease")
    worker, _ = Vault.create_account(
        ApiClient(web_server.url), f"worker-{secrets.token_hex(4)}", TEST_PASSPHRASE
    )
    grant = create_grant(
        phone, worker.account["handle"], purpose="Check", types=["lease"], pins=PinStore(None)
    )
    link = create_link(phone, [document_id], uses=5)
    assert received_documents(worker, grant.id, phone.keys.public_signing_key)
    assert open_link(link.url, tmp_path / "before", api=ApiClient(web_server.url)).files

    page.goto("/login?next=/safety")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("form[data-login] button[type=submit]").click()
    page.wait_for_url("**/safety")
    page.locator("main[data-page=safety][data-ready]").wait_for(state="attached")
    expect(page.locator("main")).to_contain_text("Your papers, their versions")
    assert axe_violations(page) == []
    screenshot(page, "safety-reset")

    page.locator("#reset-current").fill(TEST_PASSPHRASE)
    page.locator("#reset-new").fill(NEW_PASSPHRASE)
    page.locator("#reset-again").fill(NEW_PASSPHRASE)
    page.locator("form[data-reset] [data-submit]").click()
    result = page.locator("[data-result]")
    expect(result).to_be_visible()
    expect(result.locator("[data-ended]")).to_contain_text("Links: 1. Accesses: 1.")
    new_sheet = result.locator("[data-recovery-key]").inner_text().strip()
    assert new_sheet.startswith("WR1-") and new_sheet != old_sheet

    with pytest.raises(ApiError):
        phone.api.api("GET", "/accounts/me")
    with pytest.raises((ApiError, VaultError)):
        received_documents(worker, grant.id, phone.keys.public_signing_key)
    with pytest.raises((ApiError, VaultError)):
        open_link(link.url, tmp_path / "after", api=ApiClient(web_server.url))
    with pytest.raises((ApiError, VaultError)):
        Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)
    with pytest.raises((ApiError, VaultError)):
        Vault.recover(ApiClient(web_server.url), handle, old_sheet, "another long passphrase x")
    fresh = Vault.login(ApiClient(web_server.url), handle, NEW_PASSPHRASE)
    fresh.download(document_id, tmp_path / "back.pdf")
    assert (tmp_path / "back.pdf").read_bytes() == paper.read_bytes()
    recovered = Vault.recover(ApiClient(web_server.url), handle, new_sheet, NEW_PASSPHRASE)
    assert [d.id for d in recovered.list_documents()] == [document_id]


def test_a_new_recovery_key_alone_in_the_browser(page: Page, web_server: LiveServer) -> None:
    handle = f"sheet-{secrets.token_hex(4)}"
    old_sheet = register(page, handle)
    page.goto("/login?next=/safety")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("form[data-login] button[type=submit]").click()
    page.locator("main[data-page=safety][data-ready]").wait_for(state="attached")
    form = page.locator("form[data-new-sheet]")
    form.locator("#sheet-passphrase").fill("not my passphrase at all")
    form.locator("[data-submit]").click()
    expect(form.locator("[data-error]")).to_be_visible()
    form.locator("#sheet-passphrase").fill(TEST_PASSPHRASE)
    form.locator("[data-submit]").click()
    key = page.locator("[data-new-sheet-key]")
    expect(key).to_have_text(re.compile(r"^WR1-"))
    new_sheet = key.inner_text().strip()
    with pytest.raises((ApiError, VaultError)):
        Vault.recover(ApiClient(web_server.url), handle, old_sheet, "another long passphrase x")
    recovered = Vault.recover(ApiClient(web_server.url), handle, new_sheet, TEST_PASSPHRASE)
    assert recovered.list_documents() == []
    # The rest stayed: the passphrase still opens the wallet.
    Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)


def test_who_can_see_my_papers_lists_and_ends_each_way(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    handle = f"review-{secrets.token_hex(4)}"
    register(page, handle)
    phone = Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)
    paper = tmp_path / "lease.pdf"
    paper.write_bytes(b"%PDF-1.4 lease")
    document_id, _ = phone.upload(paper, "lease", "Lease")
    worker, _ = Vault.create_account(
        ApiClient(web_server.url), f"worker-{secrets.token_hex(4)}", TEST_PASSPHRASE
    )
    grant = create_grant(
        phone, worker.account["handle"], purpose="Check", types=["lease"], pins=PinStore(None)
    )
    link = create_link(phone, [document_id], uses=5)
    for _ in range(2):  # someone tries her handle
        with pytest.raises((ApiError, VaultError)):
            Vault.login(ApiClient(web_server.url), handle, "not her passphrase at all")
    page.goto("/login?next=/safety")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("form[data-login] button[type=submit]").click()
    page.locator("main[data-page=safety][data-ready]").wait_for(state="attached")
    # The phone's session and the one left by registering, the link, the grant: nothing hidden.
    expect(page.locator("[data-ways] li")).to_have_count(4)
    expect(page.locator("[data-way=session]")).to_have_count(2)
    expect(page.locator("[data-failed]")).to_contain_text("since your previous login: 2")
    # The phone logged in with the Python client; the registration session predates the kinds.
    sessions = page.locator("[data-way=session]")
    expect(sessions.filter(has_text="(command line)")).to_have_count(1)
    expect(sessions.filter(has_text="(device not known)")).to_have_count(1)
    expect(page.locator(f'[data-way=link][data-id="{link.id}"]')).to_contain_text("5 of 5")
    expect(page.locator(f'[data-way=grant][data-id="{grant.id}"]')).to_contain_text(
        worker.account["handle"]
    )
    for kind, count in (("session", 2), ("link", 1), ("grant", 1)):
        for left in range(count - 1, -1, -1):
            page.locator(f"[data-way={kind}] button").first.click()
            expect(page.locator(f"[data-way={kind}]")).to_have_count(left)
    expect(page.locator("[data-review] [data-none]")).to_be_visible()
    with pytest.raises(ApiError):
        phone.api.api("GET", "/accounts/me")
    with pytest.raises((ApiError, VaultError)):
        received_documents(worker, grant.id, phone.keys.public_signing_key)
    with pytest.raises((ApiError, VaultError)):
        open_link(link.url, tmp_path / "after", api=ApiClient(web_server.url))
