"""Encrypt and upload a scan in headless Chromium, with 1 tus part and with 3 parallel parts
(tus concatenation), against the Python client in the same run and against the same server.

  browser = plaintext size / (click "Lock and save" -> the document page is shown):
            age encryption (typage) and SHA-256 (hash-wasm) in a Web Worker, each 2 MiB chunk
            sent (tus PATCH) while the next is encrypted, in one upload or in 3 partial
            uploads at once joined by a final upload; HPKE wrap, Ed25519 manifest, completion
  python  = plaintext size / Vault.upload (pyrage, 8 MiB PATCHes, same completion)

The page's part count is forced through localStorage "wallet.upload_parts" (web/src/tus.js).
--in-page adds the same two with the encryption on the page's own thread (localStorage
"wallet.encrypt_in_page", web/src/crypto/encrypt-job.js), to show what the worker brings.
The sides take turns in each round; every side runs REPEAT times; the median is reported.
MB = 10^6 bytes.
Run: .venv/bin/python benchmarks/web_upload.py [--size-mb 20] [--repeat 3] [--latency-ms 0]
     [--in-page]
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
    parser.add_argument(
        "--in-page",
        action="store_true",
        help="also encrypt on the page's own thread instead of the Web Worker",
    )
    args = parser.parse_args()
    size = args.size_mb * MB
    # (parts, encryption in the page's thread)
    choices = [(1, False), (3, False)] + ([(1, True), (3, True)] if args.in_page else [])
    browser_times: dict[tuple[int, bool], list[float]] = {choice: [] for choice in choices}
    python_times: list[float] = []
    with (
        temp_dir("wallet-bench-webup-") as work,
        browser_and_server(
            # Every run stores each file again: 12 copies of 100 MB pass the default 1 GiB quota.
            {"WALLET_ACCOUNT_QUOTA_BYTES": "0"}
        ) as (browser, server),
    ):
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
            for parts, in_page in choices:
                page.evaluate(
                    "([n, inPage]) => { localStorage.setItem('wallet.upload_parts', String(n));"
                    " localStorage.setItem('wallet.encrypt_in_page', inPage ? '1' : '0'); }",
                    [parts, in_page],
                )
                page.get_by_role("link", name="Add a document").first.click()
                page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
                page.locator("#file").set_input_files(str(scan))
                started = time.perf_counter()
                page.locator("[data-submit]").click()
                page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
                page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
                browser_times[(parts, in_page)].append(time.perf_counter() - started)
            started = time.perf_counter()
            vault.upload(scan, "other", "scan")
            python_times.append(time.perf_counter() - started)
        context.close()

    p = median(python_times)
    rows = []
    for parts, in_page in choices:
        b = median(browser_times[(parts, in_page)])
        label = "1 part" if parts == 1 else f"{parts} parallel parts"
        label += ", encrypting in the page" if in_page else ""
        rows.append((f"browser, {label}", f"{b:.2f}", f"{size / MB / b:.1f}", f"{p / b:.2f}"))
    rows.append(("python client", f"{p:.2f}", f"{size / MB / p:.1f}", "1.00"))
    print(table(["side", "median s", "MB/s", "/ python"], rows))
    one, three = median(browser_times[(1, False)]), median(browser_times[(3, False)])
    latency = f", page latency {args.latency_ms} ms" if args.latency_ms else ""
    print(f"\n{args.size_mb} MB scan{latency}; 3 parts / 1 part speed: {one / three:.2f}")


if __name__ == "__main__":
    assert PASS  # the page and the client use their own passphrases
    main()
