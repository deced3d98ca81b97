"""An upload survives a network drop: the page waits while offline, asks the server where it
stopped (tus HEAD) and sends only the rest; the Python client then reads the exact bytes."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser.conftest import menu_link, register
from tests.conftest import TEST_PASSPHRASE
from wallet.client import ApiClient, Vault


def test_upload_resumes_after_going_offline(
    page: Page, context: BrowserContext, tmp_path: Path, web_server
) -> None:  # type: ignore[no-untyped-def]
    name = f"resume-{secrets.token_hex(4)}"
    register(page, name)
    scan = tmp_path / "big-scan.pdf"
    content = b"%PDF-1.4\n" + os.urandom(5 * 1024 * 1024)
    scan.write_bytes(content)

    offsets: list[int] = []
    dropped: list[int] = []

    def on_patch(route: Route) -> None:
        if route.request.method != "PATCH":
            route.continue_()
            return
        offset = int(route.request.headers["upload-offset"])
        offsets.append(offset)
        if len(offsets) == 2 and not dropped:
            # The connection dies in the middle of the upload.
            dropped.append(offset)
            context.set_offline(True)
            route.abort("internetdisconnected")
            return
        route.continue_()

    page.route(re.compile(r".*/api/v1/uploads/[0-9a-f]+$"), on_patch)
    # A soft navigation (a reload would lock the wallet).
    menu_link(page, "Add a document").click()
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    page.locator("#file").set_input_files(str(scan))
    page.locator("#type").select_option("payslip")
    page.locator("[data-submit]").click()

    status = page.locator("[data-progress-text]")
    expect(status).to_contain_text("No network")
    progress = int(page.locator("#progress").get_attribute("value") or "0")
    assert 0 < progress < 100  # a real progress bar, stopped where the network went
    # Offline, the upload waits for the browser's "online" event (web/src/tus.js), no timer.
    page.wait_for_function("() => navigator.onLine === false")
    expect(status).to_contain_text("No network")  # still waiting, not failed
    context.set_offline(False)
    page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
    document_id = page.url.rsplit("/", 1)[1]

    # Only the lost chunk was sent again: no restart from zero.
    assert dropped == [offsets[1]] and offsets[1] > 0
    assert offsets.count(0) == 1
    assert offsets[2] == offsets[1]
    assert offsets == sorted(offsets)

    vault = Vault.login(ApiClient(web_server.url), name, TEST_PASSPHRASE)
    target = tmp_path / "back.pdf"
    vault.download(document_id, target)
    assert target.read_bytes() == content
