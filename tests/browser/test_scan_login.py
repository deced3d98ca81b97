"""Login on a kiosk by showing the printed wallet card to the webcam; recovery by scanning the
recovery sheet on one's own device only, never on a kiosk.

Chromium's fake camera plays a Y4M file made here from a real QR code (segno), or from a
screenshot of the wallet card as the page draws it."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import segno
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TEST_PASSPHRASE,
    WAIT_MS,
    new_context,
    register,
)
from tests.browser.test_sharing_flows import go

SIZE = 480


def qr_video(text: str, path: Path, frames: int = 10) -> Path:
    """A Y4M (YUV 4:2:0) video of black-on-white QR code frames."""
    matrix = [list(row) for row in segno.make(text, error="m").matrix]
    modules = len(matrix)
    scale = SIZE // (modules + 8)
    offset = (SIZE - modules * scale) // 2
    luma = bytearray(b"\xff" * SIZE * SIZE)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                for y in range(offset + r * scale, offset + (r + 1) * scale):
                    start = y * SIZE + offset + c * scale
                    luma[start : start + scale] = b"\x00" * scale
    chroma = b"\x80" * ((SIZE // 2) * (SIZE // 2))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{SIZE} H{SIZE} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


def image_video(png: bytes, path: Path, frames: int = 10) -> Path:
    """A Y4M video of a screenshot (for example the wallet card's QR code), on white."""
    image = Image.open(io.BytesIO(png)).convert("L")
    image.thumbnail((SIZE - 40, SIZE - 40))
    canvas = Image.new("L", (SIZE, SIZE), 255)
    canvas.paste(image, ((SIZE - image.width) // 2, (SIZE - image.height) // 2))
    chroma = b"\x80" * ((SIZE // 2) * (SIZE // 2))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{SIZE} H{SIZE} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + canvas.tobytes() + chroma + chroma)
    return path


@contextmanager
def camera_showing(playwright, video: Path, web_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    """A Chromium whose camera films `video`, and a page in it."""
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    kiosk = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        context = kiosk.new_context(base_url=web_server.url, viewport={"width": 360, "height": 740})
        context.set_default_timeout(WAIT_MS)
        context.grant_permissions(["camera"])
        yield context.new_page()
    finally:
        kiosk.close()


def open_login(page: Page) -> None:
    page.goto("/login")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")


def test_login_by_scanning_the_wallet_card_from_the_account_page(
    browser, playwright, web_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    context = new_context(browser, web_server)
    page = context.new_page()
    handle = f"card-{secrets.token_hex(4)}"
    recovery = register(page, handle)
    # The account page leads to the card; the card shows the name and a code, nothing secret.
    go(page, "/account")
    page.locator("main[data-page=account][data-ready]").wait_for(state="attached")
    page.locator("[data-card-link]").click()
    page.locator("main[data-page=wallet_card][data-ready]").wait_for(state="attached")
    card = page.locator("[data-wallet-card]")
    expect(card.locator("[data-card-handle]")).to_have_text(handle)
    assert recovery not in card.inner_text()
    assert recovery.replace("-", "") not in card.inner_html()
    png = card.locator("svg.wallet-card-qr").screenshot()
    context.close()

    with camera_showing(playwright, image_video(png, tmp_path / "card.y4m"), web_server) as page:
        page.goto("/kiosk")
        open_login(page)
        expect(page.locator("[data-scan]")).to_have_text("Scan my wallet card")
        page.locator("[data-scan]").click()
        expect(page.locator("#handle")).to_have_value(handle)
        page.locator("#passphrase").fill(TEST_PASSPHRASE)
        page.locator("form[data-login] button[type=submit]").click()
        page.wait_for_url("**/documents")


def test_login_by_scanning_the_recovery_sheet(
    browser, playwright, web_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # The account, made through the pages; its recovery sheet's QR content.
    context = new_context(browser, web_server)
    page = context.new_page()
    handle = f"scan-{secrets.token_hex(4)}"
    recovery = register(page, handle)
    context.close()
    video = qr_video(f"WALLET1:{handle}:{recovery}", tmp_path / "sheet.y4m")

    with camera_showing(playwright, video, web_server) as page:
        open_login(page)
        page.locator("[data-scan]").click()
        # The wallet name comes from the code; the recovery key is not kept for a login.
        expect(page.locator("#handle")).to_have_value(handle)
        expect(page.locator("[data-scan-status]")).to_contain_text(handle)
        assert page.locator("#recovery-key").input_value() == ""
        assert page.evaluate("() => document.querySelector('video').srcObject") is None
        page.locator("#passphrase").fill(TEST_PASSPHRASE)
        page.locator("form[data-login] button[type=submit]").click()
        page.wait_for_url("**/documents")

        # On one's own device, "I forgot my passphrase" offers to scan the sheet's code.
        open_login(page)
        page.locator("[data-recover-box] summary").click()
        expect(page.locator("[data-kiosk-recovery-note]")).to_be_hidden()
        page.locator("[data-scan-recovery]").click()
        expect(page.locator("#recovery-key")).to_have_value(recovery)
        expect(page.locator("#recover-handle")).to_have_value(handle)

        # On a kiosk it never does: no recovery scan, a warning, and a sheet's code shown by
        # mistake gives its wallet name only, even with the recovery form open.
        page.goto("/kiosk")
        open_login(page)
        page.locator("[data-recover-box] summary").click()
        expect(page.locator("[data-scan-recovery]")).to_be_hidden()
        expect(page.locator("[data-kiosk-recovery-note]")).to_be_visible()
        assert "recovery" not in page.locator("[data-scan]").inner_text().lower()
        page.locator("[data-scan]").click()
        expect(page.locator("#handle")).to_have_value(handle)
        assert page.locator("#recovery-key").input_value() == ""
        assert page.evaluate("() => document.querySelector('video').srcObject") is None
