"""Encrypt and upload a scan in headless Chromium, with 1 tus part and with 3 parallel parts
(tus concatenation), against the Python client in the same run and against the same server.

  browser = plaintext size / (click "Lock and save" -> the document page is shown):
            age encryption in the page (typage), SHA-256 (hash-wasm), tus in 2 MiB PATCHes
            (one upload, or 3 partial uploads at once joined by a final upload), HPKE wrap,
            Ed25519 manifest, completion
  python  = plaintext size / Vault.upload (pyrage, 8 MiB PATCHes, same completion)

The page's part count is forced through localStorage "wallet.upload_parts" (web/src/tus.js).
The three sides take turns in each round; every side runs REPEAT times; the median is reported.
MB = 10^6 bytes.
Run: .venv/bin/python benchmarks/web_upload.py [--size-mb 20] [--repeat 3] [--latency-ms 0]
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
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="added to every request of the page (Chromium's network emulation), as a phone's "
        "network would; the Python client gets none",
    )
    args = parser.parse_args()
    size = args.size_mb * MB
    parts_choices = (1, 3)
    browser_times: dict[int, list[float]] = {parts: [] for parts in parts_choices}
    python_times: list[float] = []
    with temp_dir("wallet-bench-webup-") as work, browser_and_server() as (browser, server):
        scan = work / "scan.pdf"
        write_random_file(scan, size)

        context = browser.new_context(base_url=server.url, viewport={"width": 360, "height": 740})
        page = context.new_page()
        page.set_default_timeout(600_000)
        if args.latency_ms:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": args.latency_ms,
                    "downloadThroughput": -1,
                    "uploadThroughput": -1,
                },
            )
        register(page)
        page.locator("#sheet-kept").check()
        page.locator("[data-continue]").click()
        page.wait_for_url("**/documents")
        vault, _recovery = Vault.create_account(
            ApiClient(server.url, timeout=600), f"bench-{secrets.token_hex(4)}", PASSPHRASE
        )
        for _ in range(args.repeat):
            for parts in parts_choices:
                page.evaluate(
                    "(n) => localStorage.setItem('wallet.upload_parts', String(n))", parts
                )
                page.get_by_role("link", name="Add a document").first.click()
                page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
                page.locator("#file").set_input_files(str(scan))
                started = time.perf_counter()
                page.locator("[data-submit]").click()
                page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
                page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
                browser_times[parts].append(time.perf_counter() - started)
            started = time.perf_counter()
            vault.upload(scan, "other", "scan")
            python_times.append(time.perf_counter() - started)
        context.close()

    p = median(python_times)
    rows = []
    for parts in parts_choices:
        b = median(browser_times[parts])
        label = "1 part" if parts == 1 else f"{parts} parallel parts"
        rows.append((f"browser, {label}", f"{b:.2f}", f"{size / MB / b:.1f}", f"{p / b:.2f}"))
    rows.append(("python client", f"{p:.2f}", f"{size / MB / p:.1f}", "1.00"))
    print(table(["side", "median s", "MB/s", "/ python"], rows))
    one, three = median(browser_times[1]), median(browser_times[3])
    latency = f", page latency {args.latency_ms} ms" if args.latency_ms else ""
    print(f"\n{args.size_mb} MB scan{latency}; 3 parts / 1 part speed: {one / three:.2f}")


if __name__ == "__main__":
    assert PASS  # the page and the client use their own passphrases
    main()
