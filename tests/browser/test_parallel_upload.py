"""A big file leaves the page in parallel parts (tus partial uploads of 8 MiB, each sent while
the next is encrypted in a Web Worker) that the server joins (a final upload); one part's chunk
lost on the way is resent alone. The Python client then reads the exact bytes, checked against the hash the
page signed over the whole ciphertext."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from playwright.sync_api import Page, Request, Route, Worker

from tests.browser.conftest import menu_link, register
from tests.conftest import TEST_PASSPHRASE
from wallet.client import ApiClient, Vault


def test_big_file_goes_up_in_parallel_parts(page: Page, tmp_path: Path, web_server) -> None:  # type: ignore[no-untyped-def]
    name = f"parallel-{secrets.token_hex(4)}"
    register(page, name)
    scan = tmp_path / "big-scan.pdf"
    content = b"%PDF-1.4\n" + os.urandom(20 * 1000 * 1000)
    scan.write_bytes(content)

    creations: list[dict[str, str]] = []
    patched: list[str] = []
    dropped: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/v1/uploads"):
            creations.append(request.headers)

    def on_patch(route: Route) -> None:
        if route.request.method == "PATCH":
            patched.append(route.request.url)
            if len(patched) == 4 and not dropped:
                dropped.append(route.request.url)
                route.abort("connectionreset")  # one part's chunk is lost on the way
                return
        route.continue_()

    workers: list[str] = []
    errors: list[str] = []

    def on_worker(worker: Worker) -> None:
        workers.append(worker.url)

    page.on("request", on_request)
    page.on("worker", on_worker)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(re.compile(r".*/api/v1/uploads/[0-9a-f]+$"), on_patch)
    menu_link(page, "Add a document").click()
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    page.locator("#file").set_input_files(str(scan))
    page.locator("#type").select_option("payslip")
    page.locator("[data-submit]").click()
    page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
    document_id = page.url.rsplit("/", 1)[1]

    partials = [h for h in creations if h.get("upload-concat") == "partial"]
    finals = [h for h in creations if h.get("upload-concat", "").startswith("final;")]
    assert len(partials) == 3 and len(finals) == 1
    assert len(finals[0]["upload-concat"].split()) == 3
    assert len(set(patched)) == 3  # each part to its own upload
    assert dropped and patched.count(dropped[0]) >= 2  # the lost chunk's part went on
    # Encrypted off the page's thread, by the bundled same-origin worker (the CSP allows it).
    assert [url for url in workers if url.endswith("/static/js/workers/encrypt.js")], workers
    assert errors == []

    vault = Vault.login(ApiClient(web_server.url), name, TEST_PASSPHRASE)
    target = tmp_path / "back.pdf"
    vault.download(document_id, target)
    assert target.read_bytes() == content
