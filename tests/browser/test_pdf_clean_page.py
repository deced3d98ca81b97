"""The upload page removes a PDF's author, creator tool, producer and XMP metadata before
encryption (issue 19), with pdf-lib in Chromium: downloaded by the owner, through a link and by
a grantee with the `wallet` command, the PDF opens with its page as it was and its bytes hold
none of it. Ticking "keep" sends the original; a file with nothing to remove goes byte for
byte."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.conftest import register
from tests.browser.test_photo_clean_page import upload
from tests.conftest import TEST_PASSPHRASE, LiveServer, run_cli
from tests.test_pdf_clean import AUTHOR, assert_clean, make_pdf


def test_pdfs_uploaded_in_the_browser_hold_no_author(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    name = f"pdf-{secrets.token_hex(4)}"
    register(page, name)
    base = {**os.environ, "WALLET_SERVER": web_server.url, "WALLET_PASSPHRASE": TEST_PASSPHRASE}
    owner = {**base, "WALLET_HOME": str(tmp_path / "home-owner")}
    worker = {**base, "WALLET_HOME": str(tmp_path / "home-worker")}
    stranger = {**base, "WALLET_HOME": str(tmp_path / "home-stranger")}
    worker_handle = f"worker-{secrets.token_hex(4)}"
    run_cli(worker, "account", "create", "--handle", worker_handle)

    source = make_pdf(tmp_path / "receipt.pdf")
    assert AUTHOR.encode() in source.read_bytes()
    cleaned_id = upload(page, source)
    kept = make_pdf(tmp_path / "kept.pdf")
    kept_id = upload(page, kept, keep=True)
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(b"%PDF-1.4\n" + secrets.token_bytes(3000))  # nothing to remove
    plain_id = upload(page, plain)

    run_cli(owner, "login", "--handle", name)
    mine = tmp_path / "owner.pdf"
    run_cli(owner, "get", cleaned_id, "-o", str(mine))
    assert_clean(mine.read_bytes())
    url = run_cli(owner, "share", "create", cleaned_id).stdout.splitlines()[0]
    opened = tmp_path / "link"
    run_cli(stranger, "share", "open", url, "-o", str(opened))
    [written] = [p for p in opened.iterdir() if not p.name.startswith(".")]
    assert_clean(written.read_bytes())
    created = run_cli(owner, "grant", "create", "--to", worker_handle, "--types", "payslip",
                      "--purpose", "Check").stdout  # fmt: skip
    grant_id = re.search(r"Grant id: ([0-9a-f]{32})", created).group(1)  # type: ignore[union-attr]
    received = tmp_path / "grantee.pdf"
    run_cli(worker, "received", "get", grant_id, cleaned_id, "-o", str(received))
    assert_clean(received.read_bytes())

    for document_id, original in ((kept_id, kept), (plain_id, plain)):
        back = tmp_path / f"back-{document_id}.pdf"
        run_cli(owner, "get", document_id, "-o", str(back))
        assert back.read_bytes() == original.read_bytes()
