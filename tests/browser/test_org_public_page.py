"""An organisation's public page in Chromium at 360x740 (issue 16, item 5): an owner reaches it
from the grant-to-an-office page and from 'People with access', sees the office's name, the
team safety code (computed in the browser from the checked key chain) and its admins, never
its workers; in French and in Arabic (right to left) too. The last admin who tries to step
down is told what to do, and stays admin."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, login, screenshot
from tests.browser.test_account_page import open_account
from tests.browser.test_org_pages import new_account, no_sideways_scroll
from tests.browser.test_sharing_flows import go
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import organisations as orglib
from wallet.client.contacts import PinStore
from wallet.client.grants import create_org_grant
from wallet.client.vault import Vault


def office(server: LiveServer, tag: str) -> tuple[orglib.CreatedOrg, Vault, Vault, Vault]:
    admin = new_account(server, "a")
    second = new_account(server, "b")
    worker = new_account(server, "w")
    created = orglib.create_org(admin, f"CPAS Saint-Gilles {tag}")
    pins = PinStore(None)
    orglib.add_member(admin, created.handle, second.account["handle"], role="admin", pins=pins)
    orglib.add_member(admin, created.handle, worker.account["handle"], pins=pins)
    return created, admin, second, worker


def shows_the_office(page: Page, created: orglib.CreatedOrg, admins: list[str]) -> None:
    page.locator("main[data-page=org_public][data-ready]").wait_for(state="attached")
    expect(page.locator("[data-org-public]")).to_be_visible()
    expect(page.locator("[data-safety-code]")).to_have_text(created.safety_code)
    expect(page.locator("[data-org-handle]")).to_have_text(created.handle)
    expect(page.locator("[data-admins] li")).to_have_text(sorted(admins))
    expect(page.locator("[data-no-admins]")).to_be_hidden()


def test_an_owner_checks_an_office_before_trusting_it(page: Page, web_server: LiveServer) -> None:
    tag = secrets.token_hex(3)
    created, admin, second, worker = office(web_server, tag)
    admins = [admin.account["handle"], second.account["handle"]]
    owner = new_account(web_server, "o")

    login(page, owner.account["handle"])
    go(page, f"/grants/org?org={created.handle}")
    page.locator("main[data-page=grant_org][data-ready]").wait_for(state="attached")
    page.locator("[data-lookup]").click()
    expect(page.locator("[data-safety-code]")).to_have_text(created.safety_code)
    page.get_by_role("link", name="The organisation's public page: its admins").click()
    page.wait_for_url(f"**/o/{created.handle}")
    shows_the_office(page, created, admins)
    expect(page.locator("[data-org-name]")).to_have_text(f"CPAS Saint-Gilles {tag}")
    assert worker.account["handle"] not in page.locator("main").inner_text()
    screenshot(page, "org-public-en")
    no_sideways_scroll(page)
    assert axe_violations(page) == []
    # The way on: give this office access, with its name filled in.
    page.get_by_role("link", name="Give this organisation access").click()
    page.wait_for_url(f"**/grants/org?org={created.handle}")
    expect(page.locator("#og-org")).to_have_value(created.handle)

    # 'People with access' links each office to its page.
    grant = create_org_grant(owner, created.handle, purpose=f"Rent aid {tag}", types=["payslip"],
                             pins=PinStore(None))  # fmt: skip
    go(page, "/grants")
    row = page.locator(f"[data-grant-id='{grant.id}']")
    row.get_by_role("link", name="The organisation's public page: its admins").click()
    page.wait_for_url(f"**/o/{created.handle}")
    shows_the_office(page, created, admins)

    # French and Arabic, on a phone: the language form keeps the wallet open.
    for lang, heading in (("fr", "Ses administrateurs"), ("ar", "مسؤولوها")):
        page.locator("#language-select").select_option(lang)
        page.locator("form[data-language] button").click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.wait_for_url(f"**/o/{created.handle}")
        shows_the_office(page, created, admins)
        expect(page.locator("#org-admins-heading")).to_have_text(heading)
        if lang == "ar":
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
        screenshot(page, f"org-public-{lang}")
        no_sideways_scroll(page)
        assert axe_violations(page) == []


def test_the_last_admin_is_told_to_name_another_first(page: Page, web_server: LiveServer) -> None:
    tag = secrets.token_hex(3)
    created, admin, second, _worker = office(web_server, tag)
    orglib.change_role(admin, created.handle, second.account["handle"], "worker")
    handle = admin.account["handle"]
    login(page, handle)
    go(page, f"/orgs/{created.handle}")
    page.locator("main[data-page=org][data-ready]").wait_for(state="attached")
    row = page.locator(f"[data-member='{handle}']")
    row.get_by_role("button", name=f"Make worker: {handle}").click()
    expect(page.locator("main > [data-error]")).to_have_text(
        "An organisation always keeps an admin. Make another member admin first, then try again."
    )
    expect(row).to_have_attribute("data-member-role", "admin")
    screenshot(page, "org-last-admin")
    assert orglib.org_detail(admin, created.handle)["role"] == "admin"
    # The members' page links to the public one too.
    page.get_by_role("link", name="The organisation's public page: its admins").click()
    page.wait_for_url(f"**/o/{created.handle}")
    shows_the_office(page, created, [handle])

    # Deleting the account is refused the same way, and deletes nothing.
    open_account(page)
    removal = page.locator("form[data-delete]")
    removal.locator("#delete-understood").check()
    removal.locator("#delete-passphrase").fill(TEST_PASSPHRASE)
    removal.locator("button[type=submit]").click()
    expect(removal.locator("[data-error]")).to_have_text(
        "An organisation always keeps an admin. Make another member admin first, then try again."
    )
    screenshot(page, "account-delete-last-admin")
    assert orglib.org_detail(admin, created.handle)["role"] == "admin"
