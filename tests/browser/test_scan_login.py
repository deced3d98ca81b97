"""Login on a kiosk by showing the printed wallet card or recovery sheet to the webcam.

Chromium's fake camera plays a Y4M file made here from a real QR code (segno)."""

from __future__ import annotations

import secrets
from pathlib import Path

import segno
from playwright.sync_api import expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TEST_PASSPHRASE,
    WAIT_MS,
    new_context,
    register,
)

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

    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    kiosk = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        context = kiosk.new_context(
            base_url=web_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(WAIT_MS)
        context.grant_permissions(["camera"])
        page = context.new_page()
        page.goto("/login")
        page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
        page.locator("[data-scan]").click()
        # The wallet name comes from the code; the recovery key is not kept for a login.
        expect(page.locator("#handle")).to_have_value(handle)
        expect(page.locator("[data-scan-status]")).to_contain_text(handle)
        assert page.locator("#recovery-key").input_value() == ""
        assert page.evaluate("() => document.querySelector('video').srcObject") is None
        page.locator("#passphrase").fill(TEST_PASSPHRASE)
        page.locator("form[data-login] button[type=submit]").click()
        page.wait_for_url("**/documents")

        # With "I forgot my passphrase" open, the same code fills the recovery form.
        page.goto("/login")
        page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
        page.locator("[data-recover-box] summary").click()
        page.locator("[data-scan]").click()
        expect(page.locator("#recovery-key")).to_have_value(recovery)
        expect(page.locator("#recover-handle")).to_have_value(handle)
    finally:
        kiosk.close()
