"""Encrypt and upload a 20 MB scan in headless Chromium, against the Python client in the same
run and against the same server.

  browser = plaintext size / (click "Lock and save" -> the document page is shown):
            age encryption in the page (typage), SHA-256 (hash-wasm), tus in 2 MiB PATCHes,
            HPKE wrap, Ed25519 manifest, completion
  python  = plaintext size / Vault.upload (pyrage, 8 MiB PATCHes, same completion)

Every side runs REPEAT times; the median is reported. MB = 10^6 bytes.
Run: .venv/bin/python benchmarks/web_upload.py [--size-mb 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import secrets
import time

from _common import MB, PASSPHRASE, median, table, temp_dir, write_random_file
from web_bundle import PASS, browser_and_server, register

from wallet.client import ApiClient, Vault


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mb * MB
    browser_times: list[float] = []
    python_times: list[float] = []
    with temp_dir("wallet-bench-webup-") as work, browser_and_server() as (browser, server):
        scan = work / "scan.pdf"
        write_random_file(scan, size)

        context = browser.new_context(base_url=server.url, viewport={"width": 360, "height": 740})
        page = context.new_page()
        page.set_default_timeout(300_000)
        register(page)
        page.locator("#sheet-kept").check()
        page.locator("[data-continue]").click()
        page.wait_for_url("**/documents")
        for _ in range(args.repeat):
            page.get_by_role("link", name="Add a document").first.click()
            page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
            page.locator("#file").set_input_files(str(scan))
            started = time.perf_counter()
            page.locator("[data-submit]").click()
            page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
            page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
            browser_times.append(time.perf_counter() - started)
        context.close()

        vault, _recovery = Vault.create_account(
            ApiClient(server.url, timeout=300), f"bench-{secrets.token_hex(4)}", PASSPHRASE
        )
        for _ in range(args.repeat):
            started = time.perf_counter()
            vault.upload(scan, "other", "scan")
            python_times.append(time.perf_counter() - started)

    b, p = median(browser_times), median(python_times)
    print(
        table(
            ["side", "median s", "MB/s"],
            [
                ("browser (headless chromium)", f"{b:.2f}", f"{size / MB / b:.1f}"),
                ("python client", f"{p:.2f}", f"{size / MB / p:.1f}"),
            ],
        )
    )
    print(f"\n{args.size_mb} MB scan; browser / python speed: {p / b:.2f}")


if __name__ == "__main__":
    assert PASS  # the page and the client use their own passphrases
    main()
