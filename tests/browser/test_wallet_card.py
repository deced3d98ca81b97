"""The wallet card and the recovery sheet (issue 12, item 8) in Chromium at 360 px: the sheet
carries a wallet card (name and code, nothing secret), can be saved as a PNG image made in
the browser, and a recovery with the key ends by saying plainly that the passphrase changed."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import TEST_PASSPHRASE, axe_violations, screenshot
from tests.browser.test_sharing_flows import go

NEW_PASSPHRASE = "another long passphrase for the test"


def register_and_stay_on_sheet(page: Page, handle: str) -> str:
    page.goto("/register")
    page.locator("main[data-page=register][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("#passphrase-again").fill(TEST_PASSPHRASE)
    page.locator("form[data-register] button[type=submit]").click()
    page.wait_for_url("**/recovery-sheet")
    page.locator("[data-sheet]").wait_for(state="visible")
    return page.locator("[data-recovery-key]").inner_text().strip()


def test_recovery_sheet_has_a_wallet_card_and_saves_as_an_image(page: Page) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    handle = f"sheet-{secrets.token_hex(4)}"
    recovery = register_and_stay_on_sheet(page, handle)

    card = page.locator("[data-wallet-card]")
    expect(card.locator("[data-card-handle]")).to_have_text(handle)
    expect(card.locator("svg.wallet-card-qr")).to_be_visible()
    # Nothing secret on the card: the key is on the sheet, never on the card.
    assert recovery not in card.inner_text()
    assert "Never show it to the camera of a public computer" in page.locator(".sheet").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "recovery-sheet-with-card")

    with page.expect_download() as info:
        page.locator("[data-save-png]").click()
    download = info.value
    assert download.suggested_filename.endswith(".png")
    image = Image.open(io.BytesIO(Path(download.path()).read_bytes()))
    assert image.format == "PNG" and image.size == (1240, 1754)
    # Mostly white paper with black writing and a code on it.
    colours = image.convert("L").getcolors(maxcolors=256 * 256) or []
    dark = sum(count for count, value in colours if value < 128)
    assert 0.01 < dark / (image.width * image.height) < 0.5
    expect(page.locator("[data-save-status]")).to_contain_text("saved as an image")

    page.locator("#sheet-kept").check()
    page.locator("[data-continue]").click()
    page.wait_for_url("**/documents")

    # The account page offers the card again; and the card page draws it at 360 px.
    go(page, "/account")
    page.locator("main[data-page=account][data-ready]").wait_for(state="attached")
    page.locator("[data-card-link]").click()
    page.locator("main[data-page=wallet_card][data-ready]").wait_for(state="attached")
    expect(page.locator("[data-wallet-card] [data-card-handle]")).to_have_text(handle)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    assert axe_violations(page) == []
    screenshot(page, "wallet-card")


def test_recovery_ends_with_your_passphrase_is_changed(page: Page) -> None:
    handle = f"lost-{secrets.token_hex(4)}"
    recovery = register_and_stay_on_sheet(page, handle)
    page.locator("#sheet-kept").check()
    page.locator("[data-continue]").click()
    page.wait_for_url("**/documents")

    page.goto("/login")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    page.locator("[data-recover-box] summary").click()
    page.locator("#recover-handle").fill(handle)
    page.locator("#recovery-key").fill(recovery)
    page.locator("#new-passphrase").fill(NEW_PASSPHRASE)
    page.locator("#new-passphrase-again").fill(NEW_PASSPHRASE)
    page.locator("form[data-recover] button[type=submit]").click()
    done = page.locator("[data-recovered]")
    expect(done).to_be_visible()
    expect(done.locator("h2")).to_have_text("Your passphrase is changed")
    expect(page.locator("form[data-recover]")).to_be_hidden()
    assert page.locator("#recovery-key").input_value() == ""
    assert axe_violations(page) == []
    page.locator("[data-recovered-go]").click()
    page.wait_for_url("**/documents")
    page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
