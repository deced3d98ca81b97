"""Open a share link in headless Chromium: from loading the link page to seeing the document
list, with a 1-use link to 3 documents of 2 MB, against the Python client's `share open` in the
same run and against the same server.

  browser list  = page.goto(link) -> preview shown (who, purpose, expiry; nothing used) ->
                  click "Open the documents" -> the list of 3 documents is on screen
                  (challenge + proof, preview, redeem, package opened and its signature checked)
  browser ready = the same, until all 3 files are downloaded, hash-checked and decrypted in
                  the page (they download one after the other in the background)
  python        = wallet.client.links.open_link (what `wallet share open URL -o DIR` runs):
                  redeem, download, check and decrypt the 3 files to disk

Each side runs REPEAT times, each time with a fresh 1-use link; the median is printed.
MB = 10^6 bytes. Run: .venv/bin/python benchmarks/web_link_open.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from typing import Any

from _common import MB, PASSPHRASE, median, table, temp_dir, write_random_file
from web_bundle import browser_and_server

os.environ.setdefault("WALLET_CLIENT_KDF_FLOOR", "1,8192")

from wallet.client import ApiClient, Vault  # noqa: E402
from wallet.client.links import create_link, open_link  # noqa: E402


def _keep_errors(errors: list[str], message: Any) -> None:
    if message.type == "error":
        errors.append(message.text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--documents", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=2)
    args = parser.parse_args()
    listed: list[float] = []
    ready: list[float] = []
    python: list[float] = []
    with temp_dir("wallet-bench-link-") as work, browser_and_server() as (browser, server):
        vault, _recovery = Vault.create_account(ApiClient(server.url), "bench-owner", PASSPHRASE)
        ids = []
        for n in range(args.documents):
            path = work / f"payslip-{n}.pdf"
            write_random_file(path, args.size_mb * MB)
            ids.append(vault.upload(path, "payslip", f"Payslip {n}")[0])

        for _ in range(args.repeat):
            link = create_link(vault, ids, uses=1, purpose="Housing subsidy")
            context = browser.new_context(viewport={"width": 360, "height": 740})
            page = context.new_page()
            page.set_default_timeout(120_000)
            errors: list[str] = []
            page.on("console", functools.partial(_keep_errors, errors))
            started = time.perf_counter()
            page.goto(link.url)
            try:
                page.locator('[data-fact="purpose"]:has-text("Housing subsidy")').wait_for(
                    timeout=30_000
                )
            except Exception:
                raise SystemExit(f"the link page did not show the preview: {errors}") from None
            page.get_by_role("button", name="Open the documents").click()
            page.locator("[data-files] li").nth(args.documents - 1).wait_for()
            listed.append(time.perf_counter() - started)
            page.locator("[data-files] li[data-ready]").nth(args.documents - 1).wait_for()
            ready.append(time.perf_counter() - started)
            context.close()

            other = create_link(vault, ids, uses=1, purpose="Housing subsidy")
            target = work / f"out-{len(python)}"
            started = time.perf_counter()
            opened = open_link(other.url, target, api=ApiClient(server.url))
            python.append(time.perf_counter() - started)
            assert len(opened.files) == args.documents

    total = args.documents * args.size_mb
    print(
        f"Link to {args.documents} documents of {args.size_mb} MB ({total} MB), 1 use, "
        f"median of {args.repeat}:"
    )
    print(
        table(
            ["side", "median s", "min s", "max s"],
            [
                [
                    "browser: page -> list shown",
                    f"{median(listed):.2f}",
                    f"{min(listed):.2f}",
                    f"{max(listed):.2f}",
                ],
                [
                    "browser: page -> 3 files ready",
                    f"{median(ready):.2f}",
                    f"{min(ready):.2f}",
                    f"{max(ready):.2f}",
                ],
                [
                    "python open_link (share open)",
                    f"{median(python):.2f}",
                    f"{min(python):.2f}",
                    f"{max(python):.2f}",
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
