"""axe-core on every owner page (zero serious or critical violations), keyboard-only use, and a
layout that holds from 360 px to a kiosk screen."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, axe_violations, menu_link, new_context, register
from tests.browser.test_pages import PNG, upload


def check(page: Page, name: str) -> None:
    page.locator("main[data-ready]").wait_for(state="attached")
    violations = axe_violations(page)
    assert not violations, f"{name}: {violations}"
    # Nothing wider than the screen: no sideways scrolling on a phone.
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_axe_on_every_owner_page(browser, web_server, viewport, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = new_context(browser, web_server, viewport)
    page = context.new_page()
    try:
        for path in ("/", "/register", "/login"):
            page.goto(path)
            check(page, path)
        page.locator("[data-recover-box] summary").click()
        check(page, "/login with recovery form")
        page.goto("/recovery-sheet")
        check(page, "/recovery-sheet after a reload")

        page.goto("/register")
        page.locator("main[data-ready]").wait_for(state="attached")
        page.locator("#handle").fill(f"axe-{secrets.token_hex(4)}")
        page.locator("#passphrase").fill("short")
        page.locator("#passphrase-again").fill("other")
        page.locator("form[data-register] button[type=submit]").click()
        expect(page.locator("form[data-register] [data-error]")).to_be_visible()
        check(page, "/register with an error")

        register(page, f"axe-{secrets.token_hex(4)}")
        check(page, "/documents (empty)")
        scan = tmp_path / "scan.png"
        scan.write_bytes(PNG)
        upload(page, scan, "lease", "2020-02-02")
        page.locator("[data-show]").click()
        expect(page.locator("[data-viewer] img")).to_be_visible()
        check(page, "/documents/{id}")
        menu_link(page, "My documents").click()
        expect(page.locator(".doc-list li")).to_have_count(1)
        check(page, "/documents")
        menu_link(page, "Add a document").click()
        check(page, "/documents/new")
        menu_link(page, "My details").click()
        expect(page.locator("form[data-profile]")).to_be_visible()
        check(page, "/profile")
    finally:
        context.close()


def test_recovery_sheet_passes_axe(page: Page) -> None:
    page.goto("/register")
    page.locator("main[data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(f"sheet-{secrets.token_hex(4)}")
    page.locator("#passphrase").fill("green bicycle under the rain")
    page.locator("#passphrase-again").fill("green bicycle under the rain")
    page.locator("form[data-register] button[type=submit]").click()
    page.wait_for_url("**/recovery-sheet")
    expect(page.locator("[data-sheet] svg.qr")).to_be_visible()
    check(page, "/recovery-sheet")
    # Continuing without confirming says what to do.
    page.locator("[data-continue]").click()
    expect(page.locator("form[data-sheet-done] [data-error]")).to_contain_text("tick the box")


def tab_to(page: Page, selector: str, limit: int = 40) -> None:
    """Presses Tab until `selector` has the focus, like a keyboard user."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_register_upload_view(page: Page, tmp_path: Path) -> None:
    page.goto("/")
    page.locator("main[data-ready]").wait_for(state="attached")
    tab_to(page, ".skip-link")
    tab_to(page, 'a[href="/register"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**/register")
    page.locator("main[data-ready]").wait_for(state="attached")
    tab_to(page, "#handle")
    page.keyboard.press("Control+A")
    page.keyboard.type(f"keys-{secrets.token_hex(4)}")
    tab_to(page, "#passphrase")
    page.keyboard.type("green bicycle under the rain")
    tab_to(page, "#passphrase-again")
    page.keyboard.type("green bicycle under the rain")
    page.keyboard.press("Enter")
    page.wait_for_url("**/recovery-sheet")
    page.locator("[data-sheet]").wait_for(state="visible")
    tab_to(page, "#sheet-kept")
    page.keyboard.press("Space")
    tab_to(page, "[data-continue]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/documents")
    page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
    tab_to(page, 'main a[href="/documents/new"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**/documents/new")
    page.locator("main[data-ready]").wait_for(state="attached")
    scan = tmp_path / "rent.png"
    scan.write_bytes(PNG)
    tab_to(page, "#file")
    # The picker itself is the system's dialog: hand it the file once Tab reached the input.
    page.locator("#file").set_input_files(str(scan))
    # The kind is asked: reached by Tab, chosen with the keyboard.
    tab_to(page, "#type")
    page.locator("#type").select_option("rent_receipt")
    tab_to(page, "[data-submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/documents/*")
    page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
    tab_to(page, "[data-show]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-viewer] img")).to_be_visible()
    # Focus is always visible: the focused element draws an outline.
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
