"""A large link document saved in Chromium as it downloads (the link page's service worker,
web/src/link-sw.js): the saved file is the owner's file byte for byte; a blob changed on the
server fails the download with the plain "damaged" message, and no file is saved under the
document's name."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import PageProblems, new_context
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import ApiClient, Vault
from wallet.client.links import create_link

SIZE = 21_000_000  # above the page's 16 MB in-memory limit


@pytest.fixture
def downloads_context(browser: Browser, web_server: LiveServer) -> Iterator[BrowserContext]:
    context = new_context(browser, web_server, accept_downloads=True)
    yield context
    context.close()


def owner_with_large_file(server: LiveServer, tmp_path: Path) -> tuple[Vault, str, bytes]:
    vault, _recovery = Vault.create_account(
        ApiClient(server.url, timeout=120), f"big-{secrets.token_hex(3)}", TEST_PASSPHRASE
    )
    # A size of its own, so the test finds its blob in the server's folder by size.
    data = b"%PDF-1.4\n" + secrets.token_bytes(SIZE + secrets.randbelow(1_000_000))
    source = tmp_path / "tax-return.pdf"
    source.write_bytes(data)
    document_id, _version = vault.upload(source, "other", "Tax return")
    return vault, document_id, data


def open_link_page(context: BrowserContext, url: str) -> tuple[Page, PageProblems]:
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    page.goto(url)
    page.get_by_role("button", name="Open the documents").click()
    expect(page.locator("[data-files] li")).to_have_count(1)
    return page, problems


def stored_blob(server: LiveServer, size: int) -> Path:
    """The document's ciphertext in the server's blob folder (the only blob of its size)."""
    [blob] = [
        path
        for path in (server.data_dir / "blobs").rglob("*")
        if path.is_file() and size < path.stat().st_size < size + 10_000
    ]
    return blob


def test_a_large_link_document_streams_to_disk_and_matches(
    downloads_context: BrowserContext, web_server: LiveServer, tmp_path: Path
) -> None:
    vault, document_id, data = owner_with_large_file(web_server, tmp_path)
    link = create_link(vault, [document_id], uses=1, purpose="Tax office")
    page, problems = open_link_page(downloads_context, link.url)
    row = page.locator("[data-files] li")
    # Not fetched into the page: Save streams it.
    expect(row).not_to_have_attribute("data-ready", "1")
    with page.expect_download(timeout=180_000) as info:
        row.locator("[data-save]").click()
    download = info.value
    saved = Path(download.path())
    assert download.suggested_filename == "tax-return.pdf"
    assert saved.stat().st_size == len(data)
    assert saved.read_bytes() == data
    expect(row).to_have_attribute("data-saved", "1", timeout=60_000)
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 1
    unexpected = [e for e in problems.errors if "Failed to load resource" not in e]
    assert not unexpected, unexpected


def test_a_changed_blob_fails_the_streamed_download_with_a_plain_message(
    downloads_context: BrowserContext, web_server: LiveServer, tmp_path: Path
) -> None:
    vault, document_id, data = owner_with_large_file(web_server, tmp_path)
    blob = stored_blob(web_server, len(data))
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one flipped bit in the middle of the ciphertext
    blob.write_bytes(bytes(raw))
    link = create_link(vault, [document_id], uses=1, purpose="Tax office")
    page, _problems = open_link_page(downloads_context, link.url)
    row = page.locator("[data-files] li")
    with page.expect_download(timeout=180_000) as info:
        row.locator("[data-save]").click()
    download = info.value
    # The browser's download failed: there is no saved file to mistake for the paper.
    assert download.failure() is not None
    expect(row).to_have_attribute("data-failed", "1", timeout=60_000)
    expect(row).to_contain_text("damaged or was changed")
    expect(page.locator("[data-file-status]")).to_contain_text("damaged or was changed")
