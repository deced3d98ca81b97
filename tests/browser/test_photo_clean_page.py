"""The upload page removes a photo's place, phone and time before encryption (issue 19): a
JPEG, a PNG and a WebP with GPS, a camera serial and a maker, uploaded in Chromium, then
downloaded by the owner, through a link and by a grantee with the `wallet` command: each file
opens, stands upright and its bytes hold none of it. Ticking "keep" sends the original."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import menu_link, register
from tests.conftest import TEST_PASSPHRASE, LiveServer, run_cli
from tests.test_photo_clean import SERIAL, assert_clean, make_photo

SUFFIX = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}
# Chromium turns JPEG and PNG by their EXIF orientation but shows a WebP as stored: the page
# keeps the picture as the browser showed it (the CLI turns all three, like Pillow).
TURNED = {"jpeg": True, "png": True, "webp": False}


def upload(page: Page, path: Path, *, keep: bool = False) -> str:
    # Soft navigation (a typed address would forget the keys).
    menu_link(page, re.compile("Add a document")).click()
    page.wait_for_url("**/documents/new")
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    page.locator("#file").set_input_files(str(path))
    page.locator("#type").select_option("payslip")
    if keep:
        page.locator("#keep-details").check()
    page.locator("[data-submit]").click()
    page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
    page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
    return page.url.rsplit("/", 1)[1]


def test_photos_uploaded_in_the_browser_hold_no_trace(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    name = f"photo-{secrets.token_hex(4)}"
    register(page, name)
    base = {
        **os.environ,
        "WALLET_SERVER": web_server.url,
        "WALLET_PASSPHRASE": TEST_PASSPHRASE,
    }
    owner = {**base, "WALLET_HOME": str(tmp_path / "home-owner")}
    worker = {**base, "WALLET_HOME": str(tmp_path / "home-worker")}
    stranger = {**base, "WALLET_HOME": str(tmp_path / "home-stranger")}
    worker_handle = f"worker-{secrets.token_hex(4)}"
    run_cli(worker, "account", "create", "--handle", worker_handle)

    ids: dict[str, str] = {}
    for fmt in SUFFIX:
        folder = tmp_path / fmt
        folder.mkdir()
        ids[fmt] = upload(page, make_photo(folder, fmt))
        # The page shows the cleaned picture as the browser showed the photo.
        page.locator("[data-show]").click()
        image = page.locator("[data-viewer] img")
        expect(image).to_have_attribute("src", re.compile("^blob:"))
        size = page.evaluate(
            "(img) => img.decode().then(() => [img.naturalWidth, img.naturalHeight])",
            image.element_handle(),
        )
        assert (size[1] > size[0]) == TURNED[fmt], size
    kept_source = make_photo(tmp_path, "jpeg")
    kept_id = upload(page, kept_source, keep=True)

    run_cli(owner, "login", "--handle", name)
    created = run_cli(owner, "grant", "create", "--to", worker_handle, "--types", "payslip",
                      "--purpose", "Check").stdout  # fmt: skip
    grant_id = re.search(r"Grant id: ([0-9a-f]{32})", created).group(1)  # type: ignore[union-attr]
    for fmt, document_id in ids.items():
        mine = tmp_path / f"owner-{fmt}"
        run_cli(owner, "get", document_id, "-o", str(mine))
        assert_clean(mine.read_bytes(), fmt, turned=TURNED[fmt])

        url = run_cli(owner, "share", "create", document_id).stdout.splitlines()[0]
        opened = tmp_path / f"link-{fmt}"
        run_cli(stranger, "share", "open", url, "-o", str(opened))
        [written] = [p for p in opened.iterdir() if not p.name.startswith(".")]
        assert written.suffix == SUFFIX[fmt]
        assert_clean(written.read_bytes(), fmt, turned=TURNED[fmt])

        received = tmp_path / f"grantee-{fmt}"
        run_cli(worker, "received", "get", grant_id, document_id, "-o", str(received))
        assert_clean(received.read_bytes(), fmt, turned=TURNED[fmt])

    back = tmp_path / "kept.jpg"
    run_cli(owner, "get", kept_id, "-o", str(back))
    assert back.read_bytes() == kept_source.read_bytes()  # kept on purpose, byte for byte
    assert SERIAL.encode() in back.read_bytes()
