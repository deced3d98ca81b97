"""KDF pinning on the web login page, in Chromium, against a real server process whose operator
edits the account rows under it.

The page remembers each wallet name's salt and Argon2id cost (keyed by a hash of the name, in
localStorage; in memory only on a kiosk) and refuses a weaker cost, another name's salt or,
unless the person ticks the box, a new salt, before it derives or sends anything: the browser
sends no login request at all.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import PageProblems, build_web, menu_link, new_context
from tests.conftest import TEST_PASSPHRASE, LiveServer, run_live_server
from tests.test_kdf_pinning import COST, LOWER, account_kdf, set_kdf
from wallet.client.api import ApiClient
from wallet.client.kdfpins import salt_digest
from wallet.client.vault import Vault

KIOSK = {"width": 1920, "height": 1080}
NEW_PASSPHRASE = "purple kettle beside seven quiet lanterns"
LOGIN_PATH = "/api/v1/auth/login"


@pytest.fixture(scope="module")
def pin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    build_web()
    # Accounts cost ops 2 / 16 KiB here, so the operator has a cheaper cost to lower them to.
    extra = {
        "WALLET_WEB_KDF_FLOOR": "1,8192",
        "WALLET_KDF_OPSLIMIT": str(COST[0]),
        "WALLET_KDF_MEMLIMIT": str(COST[1]),
    }
    with run_live_server(tmp_path_factory.mktemp("web-kdfpin"), extra) as live:
        yield live


@pytest.fixture
def device(browser: Browser, pin_server: LiveServer) -> Iterator[BrowserContext]:
    """One browser profile: its localStorage is this device's pins."""
    context = new_context(browser, pin_server)
    yield context
    context.close()


class Tab:
    """A page of the device that records every request it sends."""

    def __init__(self, context: BrowserContext) -> None:
        self.page: Page = context.new_page()
        self.problems = PageProblems()
        self.problems.watch(self.page)
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))

    def login_requests(self) -> list[str]:
        return [url for url in self.requests if url.endswith(LOGIN_PATH)]

    def close(self) -> None:
        self.page.close()
        unexpected = [e for e in self.problems.errors if "Failed to load resource" not in e]
        assert not unexpected, "\n".join(unexpected)


def new_owner(server: LiveServer, prefix: str) -> tuple[Vault, str]:
    handle = f"{prefix}{secrets.token_hex(4)}"
    vault, recovery = Vault.create_account(ApiClient(server.url), handle, TEST_PASSPHRASE)
    return vault, recovery


def open_login(tab: Tab, path: str = "/login") -> None:
    tab.page.goto(path)
    tab.page.locator("main[data-page=login][data-ready]").wait_for(state="attached")


def submit_login(tab: Tab, handle: str, passphrase: str = TEST_PASSPHRASE) -> None:
    tab.page.locator("#handle").fill(handle)
    tab.page.locator("#passphrase").fill(passphrase)
    tab.page.locator("form[data-login] button[type=submit]").click()


def login_ok(context: BrowserContext, handle: str, passphrase: str = TEST_PASSPHRASE) -> None:
    tab = Tab(context)
    open_login(tab)
    submit_login(tab, handle, passphrase)
    tab.page.wait_for_url("**/documents")
    tab.close()


def refused(context: BrowserContext, handle: str, words: str) -> Tab:
    """A login the page must refuse: the message is shown and no auth request leaves."""
    tab = Tab(context)
    open_login(tab)
    submit_login(tab, handle)
    error = tab.page.locator("form[data-login] [data-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text(words)
    expect(error).to_contain_text("Nothing was sent")
    assert any(url.endswith("/api/v1/auth/prelogin") for url in tab.requests)
    assert tab.login_requests() == []
    assert "/login" in tab.page.url
    return tab


def stored_pins(page: Page) -> dict[str, Any]:
    raw = page.evaluate("localStorage.getItem('wallet-kdf-pins')")
    return json.loads(raw)["pins"] if raw else {}


def test_a_lowered_cost_is_refused_and_the_storage_names_nobody(
    device: BrowserContext, pin_server: LiveServer
) -> None:
    _vault, _ = new_owner(pin_server, "wcost")
    handle = _vault.account["handle"]
    login_ok(device, handle)

    tab = Tab(device)
    open_login(tab)
    pins = stored_pins(tab.page)
    salt, ops, mem = account_kdf(pin_server, handle)
    [(key, pin)] = pins.items()
    assert len(key) == 64 and handle not in json.dumps(pins)  # keyed by a hash of the name
    assert pin == {"salt": salt_digest(salt), "opslimit": ops, "memlimit": mem}
    tab.close()

    set_kdf(pin_server, handle, kdf_opslimit=LOWER[0], kdf_memlimit=LOWER[1])
    tab = refused(device, handle, "weaker protection of your passphrase than this device saw")
    # Ticking "I changed my passphrase" is not offered for a weaker cost.
    expect(tab.page.locator("[data-passphrase-changed-box]")).to_be_hidden()
    tab.close()


def test_a_salt_shared_with_another_name_on_this_device_is_refused(
    device: BrowserContext, pin_server: LiveServer
) -> None:
    first, _ = new_owner(pin_server, "wfirst")
    second, _ = new_owner(pin_server, "wsecond")
    login_ok(device, first.account["handle"])
    login_ok(device, second.account["handle"])
    first_salt, _, _ = account_kdf(pin_server, first.account["handle"])
    set_kdf(pin_server, second.account["handle"], kdf_salt=first_salt)
    refused(device, second.account["handle"], "same passphrase protection").close()


def test_an_unseen_name_below_the_default_cost_is_refused(
    device: BrowserContext, pin_server: LiveServer
) -> None:
    vault, _ = new_owner(pin_server, "wunseen")
    tab = Tab(device)
    open_login(tab)
    # Back to the real floor (the server's default cost for new accounts, ops 10 / 128 MiB).
    tab.page.evaluate("document.querySelector('meta[name=\"wallet-kdf-floor\"]').remove()")
    submit_login(tab, vault.account["handle"])
    error = tab.page.locator("form[data-login] [data-error]")
    expect(error).to_contain_text("weak protection of your passphrase")
    expect(error).to_contain_text("Nothing was sent")
    assert tab.login_requests() == []
    assert stored_pins(tab.page) == {}
    tab.close()


def test_a_new_salt_needs_the_box_ticked_and_then_moves_the_pin(
    device: BrowserContext, pin_server: LiveServer
) -> None:
    vault, _ = new_owner(pin_server, "wmoved")
    handle = vault.account["handle"]
    login_ok(device, handle)
    # The passphrase changes on another device: a new salt.
    vault.change_passphrase(TEST_PASSPHRASE, NEW_PASSPHRASE)

    tab = Tab(device)
    open_login(tab)
    submit_login(tab, handle, NEW_PASSPHRASE)
    error = tab.page.locator("form[data-login] [data-error]")
    expect(error).to_contain_text("changed since this device last saw it")
    assert tab.login_requests() == []
    box = tab.page.locator("#passphrase-changed")
    expect(box).to_be_visible()
    box.check()
    tab.page.locator("#passphrase").fill(NEW_PASSPHRASE)
    tab.page.locator("form[data-login] button[type=submit]").click()
    tab.page.wait_for_url("**/documents")
    assert len(tab.login_requests()) == 1
    salt, _, _ = account_kdf(pin_server, handle)
    assert [pin["salt"] for pin in stored_pins(tab.page).values()] == [salt_digest(salt)]
    tab.close()


def test_a_passphrase_change_and_a_recovery_on_the_page_move_the_pin(
    device: BrowserContext, pin_server: LiveServer
) -> None:
    vault, recovery = new_owner(pin_server, "wowner")
    handle = vault.account["handle"]
    tab = Tab(device)
    open_login(tab)
    submit_login(tab, handle)
    tab.page.wait_for_url("**/documents")
    menu_link(tab.page, "My account").click()
    tab.page.locator("main[data-page=account][data-ready]").wait_for(state="attached")
    tab.page.locator("#current-passphrase").fill(TEST_PASSPHRASE)
    tab.page.locator("#new-passphrase").fill(NEW_PASSPHRASE)
    tab.page.locator("#new-passphrase-again").fill(NEW_PASSPHRASE)
    tab.page.locator("form[data-passphrase] button[type=submit]").click()
    expect(tab.page.locator("form[data-passphrase] [data-status]")).to_contain_text(
        "passphrase is changed"
    )
    salt, _, _ = account_kdf(pin_server, handle)
    assert [pin["salt"] for pin in stored_pins(tab.page).values()] == [salt_digest(salt)]
    tab.close()
    login_ok(device, handle, NEW_PASSPHRASE)  # no box to tick: the pin moved with it

    tab = Tab(device)
    open_login(tab)
    tab.page.locator("[data-recover-box] summary").click()
    tab.page.locator("#recover-handle").fill(handle)
    tab.page.locator("#recovery-key").fill(recovery)
    tab.page.locator("#new-passphrase").fill(TEST_PASSPHRASE)
    tab.page.locator("#new-passphrase-again").fill(TEST_PASSPHRASE)
    tab.page.locator("form[data-recover] button[type=submit]").click()
    # Recovery ends by saying so, then goes on to the documents.
    tab.page.locator("[data-recovered]").wait_for(state="visible")
    tab.page.locator("[data-recovered-go]").click()
    tab.page.wait_for_url("**/documents")
    salt, _, _ = account_kdf(pin_server, handle)
    assert [pin["salt"] for pin in stored_pins(tab.page).values()] == [salt_digest(salt)]
    tab.close()
    login_ok(device, handle)


def test_on_a_kiosk_the_pin_lasts_for_the_session_only(
    browser: Browser, pin_server: LiveServer
) -> None:
    context = new_context(browser, pin_server, viewport=KIOSK)
    try:
        vault, _ = new_owner(pin_server, "wkiosk")
        handle = vault.account["handle"]
        salt, ops, mem = account_kdf(pin_server, handle)
        tab = Tab(context)
        tab.page.goto("/kiosk?idle=600")
        tab.page.get_by_role("link", name="Open my wallet").click()
        tab.page.wait_for_url("**/login")
        submit_login(tab, handle)
        tab.page.wait_for_url("**/documents")
        # Pinned in the tab's memory, never in the browser's storage.
        assert tab.page.evaluate("[localStorage.length, sessionStorage.length]") == [0, 0]

        # Within the session the pin holds: the operator lowers the cost, and the passphrase
        # check of the account page is refused before anything is sent.
        set_kdf(pin_server, handle, kdf_opslimit=LOWER[0], kdf_memlimit=LOWER[1])
        menu_link(tab.page, "My account").click()
        tab.page.locator("main[data-page=account][data-ready]").wait_for(state="attached")
        tab.page.locator("#current-passphrase").fill(TEST_PASSPHRASE)
        tab.page.locator("#new-passphrase").fill(NEW_PASSPHRASE)
        tab.page.locator("#new-passphrase-again").fill(NEW_PASSPHRASE)
        sent = len(tab.requests)
        tab.page.locator("form[data-passphrase] button[type=submit]").click()
        expect(tab.page.locator("form[data-passphrase] [data-error]")).to_contain_text(
            "weaker protection of your passphrase"
        )
        assert [u for u in tab.requests[sent:] if "/accounts/me/passphrase" in u] == []

        tab.page.get_by_role("button", name="End session").click()
        tab.page.wait_for_url("**/kiosk?ended=ended*")
        assert tab.page.evaluate("[localStorage.length, sessionStorage.length]") == [0, 0]

        # The next person on this kiosk starts afresh: after the owner changed the passphrase
        # elsewhere (a new salt), the kiosk logs in without asking about it.
        set_kdf(pin_server, handle, kdf_opslimit=ops, kdf_memlimit=mem)
        assert account_kdf(pin_server, handle)[0] == salt
        vault.change_passphrase(TEST_PASSPHRASE, NEW_PASSPHRASE)
        tab.page.get_by_role("link", name="Open my wallet").click()
        tab.page.wait_for_url("**/login")
        submit_login(tab, handle, NEW_PASSPHRASE)
        tab.page.wait_for_url("**/documents")
        tab.close()
    finally:
        context.close()
