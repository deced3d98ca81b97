"""The emergency access page (issue 14, items 1 and 3), in Chromium at 360×740.

The owner names a trusted person after comparing the safety code, prints a sheet, refuses a
request in one tap; the helper asks, sees the wait counted down, and after the wait reads the
owner's papers (decrypted in the browser) or chooses a new passphrase for the owner.

The wait: the request's time is moved back in the database, as if the days had gone by (as in
tests/test_emergency.py), never a sleep.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from sharing.emergency.models import EmergencyAccess
from tests.browser.conftest import (
    PageProblems,
    axe_violations,
    login,
    menu_link,
    new_context,
    screenshot,
    soft_goto,
)
from tests.conftest import TEST_PASSPHRASE, LiveServer
from tests.test_grants import database
from wallet.client import ApiClient, Vault
from wallet.client import emergency as emergencylib
from wallet.client.api import ApiError
from wallet.client.contacts import PinStore, safety_code
from wallet.client.journal import fetch_entries
from wallet.crypto.encoding import b64d

NEW_PASSPHRASE = "orange kettle beside the quiet harbour"


def new_vault(server: LiveServer, prefix: str) -> Vault:
    vault, _ = Vault.create_account(
        ApiClient(server.url), f"{prefix}-{secrets.token_hex(4)}", TEST_PASSPHRASE
    )
    return vault


def move_request_back(server: LiveServer, arrangement_id: str, by: timedelta) -> None:
    """As if `by` went by since the trusted person asked."""
    with database(server.database.url) as db:
        row = db.get(EmergencyAccess, arrangement_id)
        assert row is not None and row.requested_at is not None
        row.requested_at = row.requested_at - by
        db.add(row)
        db.commit()


def requested_at(server: LiveServer, arrangement_id: str) -> object:
    with database(server.database.url) as db:
        row = db.get(EmergencyAccess, arrangement_id)
        assert row is not None
        return row.requested_at


def open_emergency(page: Page) -> None:
    soft_goto(page, "/emergency")
    page.locator("main[data-page=emergency][data-ready]").wait_for(state="attached")


def helper_page(browser: Browser, server: LiveServer, handle: str) -> tuple[Page, PageProblems]:
    context = new_context(browser, server)
    problems = PageProblems()
    tab = context.new_page()
    problems.watch(tab)
    login(tab, handle)
    return tab, problems


def no_errors(problems: PageProblems) -> None:
    unexpected = [e for e in problems.errors if "Failed to load resource" not in e]
    assert not unexpected, "\n".join(unexpected)


def test_owner_sets_up_helper_asks_and_owner_refuses_in_one_tap(
    page: Page, browser: Browser, web_server: LiveServer
) -> None:
    owner = new_vault(web_server, "owner")
    helper = new_vault(web_server, "sister")
    helper_handle = helper.account["handle"]

    # The owner, on a phone: the page is in the menu's "More" entries.
    login(page, owner.account["handle"])
    menu_link(page, "Emergency access").click()
    page.locator("main[data-page=emergency][data-ready]").wait_for(state="attached")
    form = page.locator("form[data-add]")
    form.locator("#em-handle").fill(helper_handle)
    form.locator("[data-check]").click()
    expected = safety_code(
        b64d(helper.account["public_encryption_key"]), b64d(helper.account["public_signing_key"])
    )
    expect(form.locator("[data-safety-code]")).to_have_text(expected)
    # Not before the owner says the codes are the same.
    form.locator("[data-submit]").click()
    expect(form.locator("[data-error]")).to_contain_text("codes are the same")
    assert emergencylib.given(owner) == []
    form.locator("input[name=access][value=view]").check()
    form.locator("#em-wait").select_option("3")
    expect(form.locator("#em-wait option[value='3']")).to_have_text("3 days")
    expect(form.locator("#em-wait option[value='1']")).to_have_text("1 day")
    form.locator("#em-same").check()
    form.locator("[data-submit]").click()
    expect(page.locator("[data-done]")).to_contain_text(f"{helper_handle} is now your trusted")
    item = page.locator("[data-given] li[data-state=standby]")
    expect(item).to_contain_text(helper_handle)
    expect(item).to_contain_text("Wait: 3 days")
    [made] = emergencylib.given(owner)
    assert (made["access"], made["wait_days"], made["trusted"]["handle"]) == (
        "view",
        3,
        helper_handle,
    )
    assert page.viewport_size is not None and page.viewport_size["width"] <= 360
    assert axe_violations(page) == []

    # The printable sheet names the helper and says what to do; printed, it is alone.
    item.get_by_role("button", name=f"Sheet ({helper_handle})").click()
    sheet = page.locator("[data-sheet]")
    expect(sheet).to_be_visible()
    expect(sheet.locator("[data-sheet-helper]")).to_have_text(helper_handle)
    expect(sheet.locator("[data-sheet-owner]")).to_have_text(owner.account["handle"])
    expect(sheet.locator("[data-sheet-wait]")).to_have_text("3 days")
    expect(sheet).to_contain_text("tap “Ask for access”")
    page.emulate_media(media="print")
    expect(page.locator("main h1")).to_be_hidden()
    expect(page.locator("[data-given]")).to_be_hidden()
    expect(sheet.locator("dl")).to_be_visible()
    expect(sheet.locator("[data-print]")).to_be_hidden()
    page.emulate_media(media="screen")
    screenshot(page, "emergency-owner-sheet")
    sheet.locator("[data-sheet-close]").click()
    expect(sheet).to_be_hidden()

    # The helper asks, on their own phone, and sees the wait counted down.
    tab, problems = helper_page(browser, web_server, helper_handle)
    try:
        open_emergency(tab)
        received = tab.locator(f"[data-received] li[data-emergency-id='{made['id']}']")
        expect(received).to_contain_text(owner.account["handle"])
        expect(received).to_contain_text("wait 3 days")
        owner_code = safety_code(
            b64d(owner.account["public_encryption_key"]), b64d(owner.account["public_signing_key"])
        )
        expect(received.locator("[data-owner-code]")).to_have_text(owner_code)
        received.get_by_role("button", name="Ask for access").click()
        expect(tab.locator("[data-done]")).to_contain_text("can refuse it")
        countdown = tab.locator("[data-received] [data-countdown]")
        expect(countdown).to_contain_text("3 days left")
        expect(tab.locator("[data-received] [data-open]")).to_have_count(0)
        assert axe_violations(tab) == []
        screenshot(tab, "emergency-helper-waiting")
        no_errors(problems)
    finally:
        tab.context.close()

    # The owner refuses in one tap: nothing is released, now or after the wait.
    open_emergency(page)
    waiting = page.locator("[data-given] li[data-state=waiting]")
    expect(waiting).to_contain_text("Asked for access")
    waiting.get_by_role("button", name=f"Refuse ({helper_handle})").click()
    expect(page.locator("[data-done]")).to_contain_text("Refused. Nothing was opened.")
    expect(page.locator("[data-given] li[data-state=standby]")).to_have_count(1)
    assert requested_at(web_server, made["id"]) is None
    with pytest.raises(ApiError) as refused:
        emergencylib.open_keys(helper, made["id"], PinStore(None))
    assert refused.value.status == 409
    assert "emergency_refused" in [e["event"] for e in fetch_entries(owner)]

    # The owner ends it in one tap, under a new signed head: the helper can no longer ask.
    page.locator("[data-given] li[data-state=standby]").get_by_role(
        "button", name=f"End ({helper_handle})"
    ).click()
    expect(page.locator("[data-done]")).to_contain_text(f"{helper_handle} can no longer ask")
    expect(page.locator("[data-given] li[data-state=ended]")).to_have_count(1)
    expect(page.locator("[data-given] li[data-state=ended] button")).to_have_count(0)
    assert [row["state"] for row in emergencylib.given(owner)] == ["ended"]
    assert emergencylib.received(helper) == []
    with pytest.raises(ApiError) as ended:
        emergencylib.request(helper, made["id"])
    assert ended.value.status == 404
    # The owner's signed head lists it with the revoked grants (read afresh, not cached).
    fresh = Vault.login(ApiClient(web_server.url), owner.account["handle"], TEST_PASSPHRASE)
    assert fresh.is_revoked("grants", made["id"])


def test_after_the_wait_the_helper_opens_a_paper_whose_bytes_match(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner = new_vault(web_server, "owner")
    helper = new_vault(web_server, "friend")
    source = tmp_path / "payslip.pdf"
    content = b"%PDF-1.4\n" + secrets.token_bytes(3000) + b"\n%%EOF\n"
    source.write_bytes(content)
    owner.upload(source, "payslip", "Payslip March", media_type="application/pdf")
    added = emergencylib.add(
        owner, helper.account["handle"], access="view", wait_days=2, pins=PinStore(None)
    )
    emergencylib.request(helper, added.id)

    login(page, helper.account["handle"])
    # One minute before the end of the wait: still counted down, nothing to open.
    move_request_back(web_server, added.id, timedelta(days=2) - timedelta(seconds=60))
    open_emergency(page)
    item = page.locator(f"[data-received] li[data-emergency-id='{added.id}']")
    expect(item.locator("[data-countdown]")).to_contain_text("1 minute left")
    expect(item.locator("[data-open]")).to_have_count(0)

    move_request_back(web_server, added.id, timedelta(seconds=60))
    open_emergency(page)
    item = page.locator(f"[data-received] li[data-emergency-id='{added.id}']")
    item.get_by_role("button", name=f"Open their papers ({owner.account['handle']})").click()
    reader = page.locator("[data-reader]")
    expect(reader.locator("[data-reader-title]")).to_have_text(
        f"Papers of {owner.account['handle']}"
    )
    paper = reader.locator("[data-papers] li").filter(has_text="Payslip March")
    expect(paper).to_have_count(1)
    # View only: no passphrase can be chosen.
    expect(reader.locator("form[data-takeover]")).to_be_hidden()
    with page.expect_download() as download:
        paper.get_by_role("button", name="Save Payslip March").click()
    saved = Path(download.value.path())
    assert saved.read_bytes() == content
    paper.get_by_role("button", name="View Payslip March").click()
    expect(reader.locator("[data-viewer] iframe")).to_be_attached()
    assert axe_violations(page) == []
    screenshot(page, "emergency-helper-reading")
    events = [e["event"] for e in fetch_entries(owner)]
    assert "emergency_released" in events and "emergency_download" in events


def test_take_over_sets_a_new_passphrase_and_ends_the_owners_session(
    page: Page, browser: Browser, web_server: LiveServer
) -> None:
    owner = new_vault(web_server, "owner")
    helper = new_vault(web_server, "cousin")
    owner_handle = owner.account["handle"]
    added = emergencylib.add(
        owner, helper.account["handle"], access="takeover", wait_days=1, pins=PinStore(None)
    )
    # The owner is logged in on their phone (this tab).
    login(page, owner_handle)
    open_emergency(page)
    expect(page.locator("[data-given] li[data-state=standby]")).to_contain_text(
        "Can choose a new passphrase for you"
    )

    emergencylib.request(helper, added.id)
    move_request_back(web_server, added.id, timedelta(days=1))
    tab, problems = helper_page(browser, web_server, helper.account["handle"])
    try:
        open_emergency(tab)
        tab.locator(f"[data-received] li[data-emergency-id='{added.id}'] [data-open]").click()
        takeover = tab.locator("form[data-takeover]")
        expect(takeover).to_be_visible()
        expect(takeover.locator("[data-takeover-title]")).to_have_text(
            f"A new passphrase for {owner_handle}"
        )
        takeover.locator("#em-new").fill(NEW_PASSPHRASE)
        takeover.locator("#em-again").fill(NEW_PASSPHRASE + " typo")
        takeover.locator("[data-submit]").click()
        expect(takeover.locator("[data-error]")).to_be_visible()
        takeover.locator("#em-again").fill(NEW_PASSPHRASE)
        takeover.locator("[data-submit]").click()
        expect(tab.locator("[data-done]")).to_contain_text(f"{owner_handle} has a new passphrase")
        # Used: it is gone from the helper's list.
        expect(tab.locator(f"[data-received] li[data-emergency-id='{added.id}']")).to_have_count(0)
        no_errors(problems)
    finally:
        tab.context.close()

    # The owner's old session ended: the server refuses it.
    assert page.request.get("/api/v1/documents").status == 401
    # The old passphrase no longer opens the wallet; the new one does, on this very phone
    # (which saw the old salt, so the person says the passphrase changed elsewhere).
    with pytest.raises(ApiError):
        Vault.login(ApiClient(web_server.url), owner_handle, TEST_PASSPHRASE)
    page.goto("/login")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    form = page.locator("form[data-login]")
    form.locator("#handle").fill(owner_handle)
    form.locator("#passphrase").fill(NEW_PASSPHRASE)
    form.locator("button[type=submit]").click()
    changed = form.locator("[data-passphrase-changed-box]")
    expect(changed).to_be_visible()
    form.locator("#passphrase-changed").check()
    form.locator("#passphrase").fill(NEW_PASSPHRASE)
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/documents")
    again = Vault.login(ApiClient(web_server.url), owner_handle, NEW_PASSPHRASE)
    events = [e["event"] for e in fetch_entries(again)]
    assert "emergency_taken_over" in events


@pytest.mark.parametrize(
    ("lang", "left"),
    [("fr", "Encore 3 jours."), ("ar", "بقيت 3 أيام."), ("de", "Noch 3 Tage.")],
)
def test_both_sides_in_other_languages_fit_a_phone(
    browser: Browser, web_server: LiveServer, lang: str, left: str
) -> None:
    owner = new_vault(web_server, "owner")
    helper = new_vault(web_server, "aide")
    added = emergencylib.add(
        owner, helper.account["handle"], access="takeover", wait_days=3, pins=PinStore(None)
    )
    emergencylib.request(helper, added.id)
    context = new_context(browser, web_server)
    context.add_cookies([{"name": "wallet_lang", "value": lang, "url": web_server.url}])
    problems = PageProblems()
    try:
        tab = context.new_page()
        problems.watch(tab)
        login(tab, owner.account["handle"])
        open_emergency(tab)
        expect(tab.locator("html")).to_have_attribute("lang", lang)
        expect(tab.locator("[data-given] li[data-state=waiting] [data-refuse]")).to_be_visible()
        tab.locator("#em-handle").fill(helper.account["handle"])
        tab.locator("[data-check]").click()
        expect(tab.locator("[data-safety-code]")).to_be_visible()
        tab.locator("[data-sheet-for]").click()
        expect(tab.locator("[data-sheet-helper]")).to_have_text(helper.account["handle"])
        width = tab.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], width
        assert axe_violations(tab) == []
        screenshot(tab, f"emergency-owner-{lang}")

        tab.context.clear_cookies()
        context.add_cookies([{"name": "wallet_lang", "value": lang, "url": web_server.url}])
        login(tab, helper.account["handle"])
        open_emergency(tab)
        expect(tab.locator("[data-received] [data-countdown]")).to_contain_text(left)
        width = tab.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], width
        screenshot(tab, f"emergency-helper-{lang}")
        no_errors(problems)
    finally:
        context.close()


def test_the_page_refuses_an_arrangement_the_owner_ended_that_the_server_revives(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner = new_vault(web_server, "owner")
    helper = new_vault(web_server, "niece")
    source = tmp_path / "lease.txt"
    source.write_text("lease content", encoding="utf-8")
    owner.upload(source, "lease", "Lease", media_type="text/plain")
    added = emergencylib.add(
        owner, helper.account["handle"], access="view", wait_days=1, pins=PinStore(None)
    )
    emergencylib.request(helper, added.id)
    move_request_back(web_server, added.id, timedelta(days=1))
    with database(web_server.database.url) as db:
        row = db.get(EmergencyAccess, added.id)
        assert row is not None
        kept = bytes(row.sealed)  # what an operator could keep aside
    emergencylib.end(owner, added.id)
    # The operator puts the row back as it was, keys included.
    with database(web_server.database.url) as db:
        row = db.get(EmergencyAccess, added.id)
        assert row is not None
        row.revoked_at = None
        row.sealed = kept
        db.add(row)
        db.commit()

    login(page, helper.account["handle"])
    open_emergency(page)
    page.locator(f"[data-received] li[data-emergency-id='{added.id}'] [data-open]").click()
    expect(page.locator("main > [data-error]")).to_contain_text("The owner took this access back")
    expect(page.locator("[data-reader]")).to_be_hidden()
    expect(page.locator("[data-papers] li")).to_have_count(0)


def test_an_arrangement_made_in_the_browser_opens_in_the_python_client(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    """The browser seals and signs exactly as the CLI does: the Python client opens a take-over
    arrangement made on the page, reads a paper and could lock the keys again."""
    owner = new_vault(web_server, "owner")
    helper = new_vault(web_server, "brother")
    source = tmp_path / "card.txt"
    source.write_text("identity card", encoding="utf-8")
    document_id, _ = owner.upload(source, "id_card", "Card", media_type="text/plain")
    login(page, owner.account["handle"])
    open_emergency(page)
    form = page.locator("form[data-add]")
    form.locator("#em-handle").fill(helper.account["handle"])
    form.locator("[data-check]").click()
    form.locator("input[name=access][value=takeover]").check()
    form.locator("#em-wait").select_option("30")
    form.locator("#em-same").check()
    form.locator("[data-submit]").click()
    expect(page.locator("[data-given] li[data-state=standby]")).to_contain_text("Wait: 30 days")
    [made] = emergencylib.given(owner)
    assert (made["access"], made["wait_days"]) == ("takeover", 30)

    emergencylib.request(helper, made["id"])
    move_request_back(web_server, made["id"], timedelta(days=30))
    opened = emergencylib.open_keys(helper, made["id"], PinStore(None))
    assert opened.access == "takeover"
    assert opened.keys.public_signing_key == owner.keys.public_signing_key
    assert opened.keys.public_encryption_key == owner.keys.public_encryption_key
    reader = emergencylib.owner_vault(helper, made["id"], PinStore(None))
    out = tmp_path / "out.txt"
    reader.download(document_id, out)
    assert out.read_text(encoding="utf-8") == "identity card"
