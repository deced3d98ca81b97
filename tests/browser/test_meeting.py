"""Meeting mode in Chromium: the owner picks 2 of 4 documents; the other two are invisible and
cannot be opened from the pages (their keys and titles are gone from the tab's memory) until the
passphrase is typed again; a wrong passphrase keeps the mask."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, login, menu_link, screenshot
from tests.browser.test_kiosk import heap_strings, owner_with_documents
from tests.conftest import LiveServer


def soft_click(page: Page, href: str) -> None:
    """Follows a link inside the page (soft navigation), as a person at the table would."""
    page.evaluate(
        """(href) => {
            const a = document.createElement("a");
            a.href = href; a.textContent = "probe"; a.id = "probe-link";
            document.querySelector("main").append(a);
            a.click();
        }""",
        href,
    )


def test_meeting_shows_only_the_chosen_papers(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(4)
    titles = [f"{name}-{tag}" for name in ("Payslip", "Lease", "Passport", "Court-letter")]
    shown, hidden = [titles[0], titles[2]], [titles[1], titles[3]]
    vault, ids = owner_with_documents(web_server, tmp_path, titles)
    login(page, vault.account["handle"])

    menu_link(page, "Meeting mode").click()
    page.wait_for_url("**/meeting")
    for title in titles:
        expect(page.locator("[data-pick-list]")).to_contain_text(title)
    assert axe_violations(page) == []
    screenshot(page, "meeting-choose")
    for title in shown:
        page.get_by_label(title).check()
    page.get_by_role("button", name="Start the meeting").click()

    expect(page.locator("[data-during]")).to_be_visible()
    expect(page.locator("[data-meeting-banner]")).to_be_visible()
    for title in shown:
        expect(page.locator("[data-shown-list]")).to_contain_text(title)
    body = page.locator("body").inner_text()
    assert not [t for t in hidden if t in body]
    # The other papers' titles and the account's keys are gone from the tab's memory.
    assert heap_strings(page, titles) == set(shown)
    assert page.locator("nav.site-nav").is_hidden()
    assert axe_violations(page) == []
    screenshot(page, "meeting-during")

    # A chosen paper opens.
    page.get_by_role("button", name=f"Show {shown[0]}").click()
    frame = page.frame_locator("[data-viewer] iframe")
    expect(frame.locator("body")).to_contain_text(f"{shown[0]} content")

    # Someone at the table tries the documents page or another document: the wallet is locked.
    for target in ("/documents", f"/documents/{ids[1]}"):
        soft_click(page, target)
        page.wait_for_url("**/login?next=*")
        expect(page.locator("form[data-login]")).to_be_visible()
        assert not [t for t in hidden if t in page.content()]
        expect(page.locator("[data-meeting-banner]")).to_be_visible()  # still masked
        page.get_by_role("link", name="Back to the chosen papers").click()
        page.wait_for_url("**/meeting")
        expect(page.locator("[data-during]")).to_be_visible()

    # A wrong passphrase keeps the mask.
    page.locator("#meeting-passphrase").fill("not the passphrase at all")
    page.get_by_role("button", name="Unlock my whole wallet").click()
    expect(page.locator("form[data-unlock] [data-error]")).to_contain_text("not right")
    expect(page.locator("[data-meeting-banner]")).to_be_visible()
    assert not [t for t in hidden if t in page.locator("body").inner_text()]
    assert heap_strings(page, hidden) == set()

    # The passphrase typed again opens everything.
    page.locator("#meeting-passphrase").fill("correct horse battery staple")
    page.get_by_role("button", name="Unlock my whole wallet").click()
    page.wait_for_url("**/documents")
    for title in titles:
        expect(page.locator(".doc-list")).to_contain_text(title)
    expect(page.locator("[data-meeting-banner]")).to_have_count(0)


def test_meeting_needs_a_pick_and_an_unlocked_wallet(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    page.goto("/meeting")
    page.wait_for_url("**/login?next=%2Fmeeting")
    vault, _ids = owner_with_documents(web_server, tmp_path, ["Only-paper"])
    login(page, vault.account["handle"])
    menu_link(page, "Meeting mode").click()
    page.wait_for_url("**/meeting")
    expect(page.locator("[data-pick-list]")).to_contain_text("Only-paper")
    page.get_by_role("button", name="Start the meeting").click()
    expect(page.locator("form[data-pick] [data-error]")).to_contain_text("at least one")
    expect(page.locator("[data-during]")).to_be_hidden()


def tab_to(page: Page, test: str, limit: int = 60) -> None:
    """Presses Tab until the focused element passes `test` (a JS expression on `e`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const e = document.activeElement; return !!({test}); }})()"):
            return
    raise AssertionError(f"Tab never reached {test}")


def test_meeting_by_keyboard_only(page: Page, web_server: LiveServer, tmp_path: Path) -> None:
    vault, _ids = owner_with_documents(web_server, tmp_path, ["Kbd-payslip", "Kbd-lease"])
    login(page, vault.account["handle"])
    # On a phone the menu folds behind its "Menu" button, and meeting mode is a rare entry,
    # under "More": both open from the keyboard too.
    if page.locator("header [data-menu-toggle]").is_visible():
        tab_to(page, "e.matches('header [data-menu-toggle]')")
        page.keyboard.press("Enter")
        expect(page.locator("header [data-menu-toggle]")).to_have_attribute("aria-expanded", "true")
    tab_to(page, "e.matches('details[data-menu-more] > summary')")
    page.keyboard.press("Enter")
    tab_to(page, "e.getAttribute('href') === '/meeting'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/meeting")
    expect(page.locator("[data-pick-list]")).to_contain_text("Kbd-lease")
    tab_to(page, "e.type === 'checkbox' && e.closest('label').textContent.includes('Kbd-lease')")
    page.keyboard.press("Space")
    tab_to(page, "e.textContent.trim() === 'Start the meeting'")
    page.keyboard.press("Enter")
    expect(page.locator("[data-during]")).to_be_visible()
    tab_to(page, "e.textContent.trim() === 'Show Kbd-lease'")
    page.keyboard.press("Enter")
    expect(page.frame_locator("[data-viewer] iframe").locator("body")).to_contain_text("Kbd-lease")
    assert "Kbd-payslip" not in page.locator("body").inner_text()
    tab_to(page, "e.id === 'meeting-passphrase'")
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")
    page.wait_for_url("**/documents")
    expect(page.locator(".doc-list")).to_contain_text("Kbd-payslip")
