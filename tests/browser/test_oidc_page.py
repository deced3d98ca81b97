"""The worker's OpenID Connect sign-in finishes in the browser (issue 20), in Chromium at
360x740, against the certified provider (oidc-provider, tests/oidc-node) and its own login and
consent pages: the login page offers the organisation's sign-in, the wallet's page then asks
for the wallet passphrase and opens the wallet in the tab. A wrong passphrase uses the code up
and opens nothing; the provider alone never gets a wallet session."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    PageProblems,
    axe_violations,
    login,
    menu_link,
    register,
    screenshot,
)
from tests.browser.test_oidc_provider import (  # noqa: F401 (module fixtures)
    CALLBACK,
    at_provider_pages,
    fresh_browser,
    oidc_server,
    provider,
)
from tests.browser.test_org_pages import no_sideways_scroll
from tests.conftest import TEST_PASSPHRASE, LiveServer
from tests.oidc_provider import NodeProvider
from tests.test_grants import write_file
from wallet.client import ApiClient, Vault
from wallet.client import oidc as oidc_client


def sign_in_at_provider(page: Page, server: LiveServer, name: str) -> None:
    page.goto("/login")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    page.get_by_role("link", name="Social worker? Sign in through your organisation").click()
    at_provider_pages(page, name)
    page.wait_for_url(f"{server.url}{CALLBACK}*")
    page.locator("main[data-page=oidc][data-ready]").wait_for(state="attached")


def test_the_oidc_sign_in_opens_the_wallet_in_the_browser(
    browser: Browser,
    oidc_server: LiveServer,  # noqa: F811
    provider: NodeProvider,  # noqa: F811
    tmp_path: Path,
) -> None:
    server = oidc_server
    vault, _recovery = Vault.create_account(ApiClient(server.url), "worker-quay-9", TEST_PASSPHRASE)
    vault.upload(write_file(tmp_path / "contract.pdf", "signed"), "other", "Work contract")
    context, _ = fresh_browser(browser, server)
    page = context.new_page()
    page.goto(oidc_client.link_start(vault))
    at_provider_pages(page, "page-link")
    expect(page.locator("h1")).to_have_text("Sign-in linked")
    context.close()

    context, off_machine = fresh_browser(browser, server)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)

    # A wrong passphrase: nothing opens, and the code is used up.
    sign_in_at_provider(page, server, "page-wrong")
    assert "code=" not in page.url  # the one-time code left the address bar
    page.locator("#oidc-passphrase").fill("my work password")
    page.get_by_role("button", name="Open my wallet").click()
    expect(page.locator("[data-error]")).to_contain_text("does not open your wallet")
    names = {cookie["name"] for cookie in context.cookies(server.url)}
    assert "wallet_session" not in names, names

    context.close()

    # Again (a new browser, so the provider asks again), with the wallet passphrase: the
    # wallet opens in this tab.
    context, off_machine = fresh_browser(browser, server)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    sign_in_at_provider(page, server, "page-right")
    expect(page.locator("h1")).to_have_text("Almost there")
    screenshot(page, "oidc-passphrase-page")
    no_sideways_scroll(page)
    assert axe_violations(page) == []
    page.locator("#oidc-passphrase").fill(TEST_PASSPHRASE)
    page.get_by_role("button", name="Open my wallet").click()
    page.wait_for_url("**/inbox")
    page.locator("main[data-page=inbox][data-ready]").wait_for(state="attached")
    names = {cookie["name"] for cookie in context.cookies(server.url)}
    assert "wallet_session" in names, names
    # The keys are in this tab: the documents page decrypts the worker's own document.
    menu_link(page, "My documents").click()
    page.wait_for_url("**/documents")
    expect(page.locator("main")).to_contain_text("Work contract")
    unexpected = [e for e in problems.errors if "Failed to load resource" not in e]
    assert not unexpected, unexpected
    assert all("127.0.0.1" not in url for url in off_machine.refused)
    context.close()


def test_a_worker_links_and_unlinks_the_work_account_from_the_account_page(
    browser: Browser,
    oidc_server: LiveServer,  # noqa: F811
    provider: NodeProvider,  # noqa: F811
) -> None:
    """`wallet oidc link|status|unlink` on /account: the link runs through the provider's own
    pages, the account page then names the provider, and unlinking ends it on the server."""
    server = oidc_server
    handle = "worker-dock-4"
    vault, _recovery = Vault.create_account(ApiClient(server.url), handle, TEST_PASSPHRASE)
    context, off_machine = fresh_browser(browser, server)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    login(page, handle)
    menu_link(page, "My account").click()
    page.wait_for_url("**/account")
    box = page.locator("[data-oidc-box]")
    expect(box).to_be_visible()
    expect(box.locator("[data-oidc-state]")).to_have_text(
        "No work account is linked to this wallet."
    )
    box.get_by_role("button", name="Link my work account").click()
    # Its own work login: this module's other test links "worker-7" to another wallet.
    at_provider_pages(page, "account-link", work_login="worker-dock")
    expect(page.locator("h1")).to_have_text("Sign-in linked")
    assert vault.api.api("GET", "/auth/oidc/link").json()["linked"] is True

    # The linked page leads back to the account page, which now names the provider.
    login(page, handle)
    menu_link(page, "My account").click()
    page.wait_for_url("**/account")
    expect(box.locator("[data-oidc-state]")).to_contain_text(f"at {provider.url} since")
    screenshot(page, "account-oidc-linked")
    no_sideways_scroll(page)
    box.get_by_role("button", name="Unlink my work account").click()
    expect(box.locator("[data-oidc-state]")).to_contain_text("Unlinked.")
    expect(box.get_by_role("button", name="Link my work account")).to_be_visible()
    assert vault.api.api("GET", "/auth/oidc/link").json()["linked"] is False
    unexpected = [e for e in problems.errors if "Failed to load resource" not in e]
    assert not unexpected, unexpected
    assert all("127.0.0.1" not in url for url in off_machine.refused)
    context.close()


def test_the_account_page_offers_no_work_sign_in_when_the_server_has_none(page: Page) -> None:
    handle = "plain-owner-8"
    register(page, handle)
    menu_link(page, "My account").click()
    page.wait_for_url("**/account")
    page.locator("main[data-page=account][data-ready]").wait_for(state="attached")
    expect(page.locator("[data-own-code]")).not_to_be_empty()
    expect(page.locator("[data-oidc-box]")).to_be_hidden()
