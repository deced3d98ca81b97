"""Multi-page capture in headless Chromium (issue 15, item 4): what a
12 MP phone photo costs to send, and how long the page takes to make a 3-page PDF of three.

  photos  = three 4000×3000 noisy JPEGs (Pillow, quality 90; about 4.4 MB each, like a
            phone camera's), each with its own noise
  alone   = one photo sent on its own: the stored plaintext (decrypted by the Python client)
            against the original's bytes
  3 pages = the three photos on the upload page, page 2 turned: time from "Lock and save" to
            the encryption starting (the page's "Locking the file" message), i.e. pdf-lib
            loaded, three photos decoded, made 2,000 px, turned and encoded as JPEG 0.8, the
            PDF written; then the PDF's bytes against the three originals'
The median of REPEAT runs. MB = 10^6 bytes.
Run: .venv/bin/python benchmarks/web_capture.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from _common import MB, median, table, temp_dir
from PIL import Image
from web_bundle import PASS, browser_and_server, wait_ready

from wallet.client import ApiClient, Vault


def make_photo(path: Path) -> Path:
    width, height = 4000, 3000
    noise = Image.frombytes("RGB", (width // 2, height // 2), os.urandom(width * height * 3 // 4))
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    photo = Image.blend(base, noise.resize((width, height), Image.Resampling.BILINEAR), 0.35)
    photo.save(path, "JPEG", quality=90)
    return path


def register(page: Any, handle: str) -> None:
    page.goto("/register")
    wait_ready(page)
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(PASS)
    page.locator("#passphrase-again").fill(PASS)
    page.locator("form[data-register] button[type=submit]").click()
    page.wait_for_url("**/recovery-sheet")
    page.locator("[data-sheet]").wait_for(state="visible")
    page.locator("#sheet-kept").check()
    page.locator("[data-continue]").click()
    page.wait_for_url("**/documents")


def upload(page: Any, files: list[Path], turn: bool = False) -> tuple[str, float]:
    """Returns the document id and the seconds from the click to the encryption starting."""
    page.get_by_role("link", name="Add a document").first.click()
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    page.locator("#file").set_input_files([str(f) for f in files])
    page.locator("[data-page-list] > li").nth(len(files) - 1).wait_for(state="attached")
    if turn:
        page.get_by_role("button", name="Turn page 2 a quarter to the right").click()
    page.locator("#type").select_option("payslip")
    started = time.perf_counter()
    page.locator("[data-submit]").click()
    page.wait_for_function(
        "() => /Locking/.test(document.querySelector('[data-progress-text]')?.textContent || '')"
        " || /\\/documents\\/[0-9a-f]{32}$/.test(location.pathname)",
        polling="raf",
    )
    prepared = time.perf_counter() - started
    page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
    page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
    return page.url.rsplit("/", 1)[1], prepared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    handle = f"bench-{secrets.token_hex(4)}"
    build_times: list[float] = []
    single_times: list[float] = []
    with temp_dir("wallet-bench-capture-") as work, browser_and_server() as (browser, server):
        photos = [make_photo(work / f"photo-{i}.jpg") for i in range(3)]
        one, three = photos[0].stat().st_size, sum(p.stat().st_size for p in photos)
        context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(600_000)
        register(page, handle)
        vault = Vault.login(ApiClient(server.url, timeout=600), handle, PASS)
        ids: list[tuple[str, str]] = []
        for _ in range(args.repeat):
            document_id, seconds = upload(page, photos[:1])
            single_times.append(seconds)
            ids.append(("alone", document_id))
            document_id, seconds = upload(page, photos, turn=True)
            build_times.append(seconds)
            ids.append(("pdf", document_id))
        context.close()
        sizes: dict[str, int] = {}
        for label, document_id in ids[-2:]:
            out = work / f"back-{label}"
            vault.download(document_id, out)
            sizes[label] = out.stat().st_size

    rows = [
        ("1 photo 4000×3000, original", f"{one / MB:.2f}", "", ""),
        ("1 photo sent alone (2000 px, JPEG 0.8)", f"{sizes['alone'] / MB:.2f}",
         f"{one / sizes['alone']:.1f}×", f"{median(single_times):.2f}"),
        ("3 photos, originals", f"{three / MB:.2f}", "", ""),
        ("3-page PDF made in the page", f"{sizes['pdf'] / MB:.2f}",
         f"{three / sizes['pdf']:.1f}×", f"{median(build_times):.2f}"),
    ]  # fmt: skip
    print(table(["what", "MB", "smaller", "median s to prepare"], rows))
    print(f"\nmedian of {args.repeat}; prepare = click to encryption start, in headless Chromium")


if __name__ == "__main__":
    main()
