"""The sharing pages in Chromium, end to end against a live server.

register -> upload from a file -> share a one-shot link (QR code) -> redeem it in a second
browser context -> a second redeem is refused; a standing grant after comparing safety codes ->
the grantee sees it -> revoke -> the grantee is refused; the Python client reads what the
browser made (link and grant); the journal's hash chain is checked in the browser and a
tampered entry is reported plainly; axe-core, 360 and 1280 px, keyboard.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    PageProblems,
    axe_violations,
    new_context,
    screenshot,
)
from tests.browser.conftest import register as register_in_page
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import grants as grantlib
from wallet.client.api import ApiClient
from wallet.client.links import open_link
from wallet.client.vault import Vault


def go(page: Page, path: str) -> None:
    """Soft navigation (as a click would do): the keys in memory survive."""
    page.evaluate(
        "p => { const a = document.createElement('a'); a.href = p; document.body.append(a);"
        " a.click(); a.remove(); }",
        path,
    )
    page.wait_for_url(f"**{path}")
    page.wait_for_load_state("networkidle")


def fresh_page(context: BrowserContext) -> tuple[Page, PageProblems]:
    tab = context.new_page()
    problems = PageProblems()
    problems.watch(tab)
    return tab, problems


def clean(problems: PageProblems) -> None:
    unexpected = [e for e in problems.errors if "Failed to load resource" not in e]
    assert not unexpected, "\n".join(unexpected)


def upload(page: Page, path: Path, data: bytes, doc_type: str, title: str) -> str:
    path.write_bytes(data)
    go(page, "/documents/new")
    page.locator("#file").set_input_files(str(path))
    page.locator("#type").select_option(doc_type)
    page.locator("#title").fill(title)
    page.locator("[data-submit]").click()
    page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
    return page.url.rsplit("/", 1)[1]


@pytest.fixture
def owner(browser: Browser, web_server: LiveServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    context = new_context(browser, web_server)
    page, problems = fresh_page(context)
    handle = f"ana-{secrets.token_hex(3)}"
    register_in_page(page, handle)
    yield page, handle, problems
    context.close()


def test_one_shot_link_from_the_share_page(  # type: ignore[no-untyped-def]
    owner, browser: Browser, web_server: LiveServer, tmp_path: Path
) -> None:
    page, handle, problems = owner
    payslip = b"%PDF-1.4\n" + secrets.token_bytes(30_000)
    upload(page, tmp_path / "payslip-march.pdf", payslip, "payslip", "Payslip March")

    go(page, "/share")
    expect(page.locator("[data-docs] input")).to_have_count(1)
    assert axe_violations(page) == []
    screenshot(page, "share-form")
    page.get_by_label(re.compile("Payslip March")).check()
    page.locator("#share-purpose").fill("Housing subsidy")
    page.locator("[data-submit]").click()
    expect(page.locator("[data-result] svg.qr")).to_be_visible()
    url = page.locator("[data-url]").input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/s/[0-9a-f]{32}#[A-Za-z0-9_-]{43}", url)
    expect(page.locator("[data-result-summary]")).to_contain_text("once")
    assert axe_violations(page) == []
    screenshot(page, "share-link-ready")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "share-link-ready")
    page.set_viewport_size(PHONE)

    # A second browser (the social worker) opens it: preview, open, the bytes are the owner's.
    worker = new_context(browser, web_server)
    try:
        tab, worker_problems = fresh_page(worker)
        tab.goto(url)
        expect(tab.locator('[data-fact="purpose"]')).to_have_text("Housing subsidy")
        expect(tab.locator('[data-fact="owner"]')).to_have_text(handle)
        tab.get_by_role("button", name="Open the documents").click()
        expect(tab.locator("[data-files] li[data-ready]")).to_have_count(1)
        with tab.expect_download() as caught:
            tab.locator("[data-save]").click()
        assert Path(caught.value.path()).read_bytes() == payslip
        clean(worker_problems)
    finally:
        worker.close()
    # A third browser: refused, in plain words, before any button.
    late = new_context(browser, web_server)
    try:
        tab, late_problems = fresh_page(late)
        tab.goto(url)
        expect(tab.locator("[data-dead]")).to_contain_text("already used")
        clean(late_problems)
    finally:
        late.close()
    # The Python client gets the same answer.
    with pytest.raises(Exception, match="already used"):
        open_link(url, tmp_path / "late", api=ApiClient(web_server.url))

    # My links: the link is used; the journal tells the story with the purpose.
    go(page, "/links")
    expect(page.locator("[data-old] li")).to_have_count(1)
    expect(page.locator("[data-none]")).to_be_visible()
    assert axe_violations(page) == []
    go(page, "/journal")
    chain = page.locator("[data-chain]")
    expect(chain).to_contain_text("intact")
    expect(page.locator("[data-entries]")).to_contain_text(
        "viewed “Payslip March” through the link “Housing subsidy”"
    )
    assert axe_violations(page) == []
    screenshot(page, "journal")
    with page.expect_download() as caught:
        page.locator("[data-export]").click()
    csv_text = Path(caught.value.path()).read_text()
    assert csv_text.startswith("seq,at,event,sentence,actor_kind")
    assert "link_download" in csv_text and "Housing subsidy" in csv_text

    # Tamper with one entry in the database: the page says plainly that the journal is broken.
    assert web_server.database.path is not None
    with sqlite3.connect(web_server.database.path) as db:
        db.execute("UPDATE journal_entry SET details = '{\"uses\":99}' WHERE event='link_created'")
    go(page, "/links")
    go(page, "/journal")
    expect(chain).to_contain_text("WARNING: the journal was changed at entry")
    assert chain.get_attribute("role") == "alert"
    clean(problems)


def test_a_link_made_in_the_browser_opens_in_python_and_a_pin_is_asked(  # type: ignore[no-untyped-def]
    owner, web_server: LiveServer, tmp_path: Path
) -> None:
    page, handle, problems = owner
    data = b"%PDF-1.4\n" + secrets.token_bytes(3000)  # not a photo: sent byte for byte
    upload(page, tmp_path / "lease.pdf", data, "lease", "Lease")
    go(page, "/share")
    page.locator("details.share-more summary").first.click()
    page.locator('input[name="types"][value="lease"]').check()
    page.locator("#share-purpose").fill("Rent")
    page.locator("#share-uses").fill("2")
    page.locator("#share-pin").fill("123")
    page.locator("[data-submit]").click()
    expect(page.locator("form[data-share] [data-error]")).to_contain_text("4 to 8 digits")
    page.locator("#share-pin").fill("2468")
    page.locator("[data-submit]").click()
    expect(page.locator("[data-result] svg.qr")).to_be_visible()
    url = page.locator("[data-url]").input_value()
    expect(page.locator("[data-pin-reminder]")).to_be_visible()

    opened = open_link(url, tmp_path / "out", pin="2468", api=ApiClient(web_server.url))
    assert (opened.owner, opened.purpose) == (handle, "Rent")
    assert (tmp_path / "out" / "lease.pdf").read_bytes() == data

    # My links: purpose shown, QR again, one-tap stop.
    go(page, "/links")
    row = page.locator("[data-active] li")
    expect(row).to_contain_text("Rent")
    expect(row).to_contain_text("1 of 2")
    row.get_by_role("button", name=re.compile("Show the QR code")).click()
    expect(page.locator("[data-qr-box] svg.qr")).to_be_visible()
    screenshot(page, "links")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "links")
    page.set_viewport_size(PHONE)
    row.get_by_role("button", name=re.compile("Stop")).click()
    expect(page.locator("[data-done]")).to_contain_text("cannot be taken back")
    with pytest.raises(Exception, match="stopped sharing"):
        open_link(url, tmp_path / "again", pin="2468", api=ApiClient(web_server.url))
    clean(problems)


def test_standing_grant_compare_codes_read_revoke(  # type: ignore[no-untyped-def]
    owner, browser: Browser, web_server: LiveServer, tmp_path: Path
) -> None:
    page, _handle, problems = owner
    content = b"%PDF-1.4 bank " + secrets.token_bytes(8000)
    upload(page, tmp_path / "bank.pdf", content, "bank_statement", "Bank statement May")

    # The grantee (a social worker) has a wallet and reads out their safety code.
    worker = new_context(browser, web_server, viewport=DESKTOP)
    tab, worker_problems = fresh_page(worker)
    worker_handle = f"anna-{secrets.token_hex(3)}"
    register_in_page(tab, worker_handle)
    go(tab, "/received")
    expect(tab.locator("[data-none]")).to_be_visible()
    worker_code = tab.locator("[data-own-code]").inner_text()
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", worker_code)

    # The owner, keyboard only: choose a person, find, compare, tick, share.
    go(page, "/share?how=person")
    page.locator('input[name="how"][value="person"]').focus()
    expect(page.locator("[data-person-only]")).to_be_visible()
    page.get_by_label(re.compile("Bank statement May")).check()
    page.locator("details.share-more summary").first.press("Enter")
    page.locator('input[name="types"][value="bank_statement"]').check()
    page.locator("#share-purpose").fill("CPAS file")
    page.locator("#share-handle").fill(worker_handle)
    page.locator("#share-handle").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Find button
    expect(page.locator("[data-safety-code]")).to_have_text(worker_code)
    assert axe_violations(page) == []
    screenshot(page, "share-person")
    page.locator("[data-submit]").click()
    expect(page.locator("form[data-share] [data-error]")).to_contain_text("Compare the safety code")
    page.locator("#share-code-ok").focus()
    page.keyboard.press("Space")
    page.locator("[data-submit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-grant-summary]")).to_contain_text(worker_handle)

    # The grantee sees and opens it; the Python client reads the same grant.
    go(tab, "/journal")
    go(tab, "/received")
    expect(tab.locator(".received-grant")).to_contain_text("CPAS file")
    with tab.expect_download() as caught:
        tab.locator("[data-save]").click()
    assert Path(caught.value.path()).read_bytes() == content
    assert axe_violations(tab) == []
    screenshot(tab, "received")
    vault = Vault.login(ApiClient(web_server.url), worker_handle, TEST_PASSPHRASE)
    [grant] = grantlib.received(vault, grantlib.PinStore(None))
    assert grant["descriptor"]["purpose"] == "CPAS file"
    from wallet.crypto.encoding import b64d

    [doc] = grantlib.received_documents(
        vault, grant["id"], b64d(grant["owner"]["public_signing_key"])
    )
    grantlib.received_get(vault, grant["id"], doc, tmp_path / "cli-copy.pdf")
    assert (tmp_path / "cli-copy.pdf").read_bytes() == content

    # A new bank statement reaches the grantee (the grant names the kind).
    upload(page, tmp_path / "bank2.pdf", b"%PDF-1.4 june", "bank_statement", "Bank statement June")
    go(tab, "/journal")
    go(tab, "/received")
    expect(tab.locator(".received-grant li")).to_have_count(2)

    # The owner ends it in one tap; the page says copies cannot be unseen; the grantee is refused.
    go(page, "/grants")
    expect(page.locator("[data-active] li")).to_contain_text(worker_handle)
    assert axe_violations(page) == []
    screenshot(page, "grants")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "grants")
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name=re.compile("End access")).click()
    expect(page.locator("[data-done]")).to_contain_text("cannot be unseen")
    go(tab, "/journal")
    go(tab, "/received")
    expect(tab.locator("[data-none]")).to_be_visible()
    assert all(g["state"] != "active" for g in grantlib.received(vault, grantlib.PinStore(None)))
    clean(problems)
    clean(worker_problems)
    worker.close()
