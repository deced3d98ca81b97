"""A recipient saves a 100 MB link document in headless Chromium: today's path (the page
downloads, hash-checks and decrypts the file into its memory, then saves it from a Blob) against
the streamed path (web/src/link-sw.js: download -> SHA-256 + age STREAM decryption -> the
browser's download, as it comes), in the same run, taking turns, against the same server.

Timed per run: click "Open the documents" (the redeem) -> the file is saved on disk (the
browser's download finished). MB/s = document size / that time; the page's peak JS heap growth
over the run (Chrome DevTools `Performance.getMetrics` JSHeapUsedSize, sampled every 100 ms;
the service worker's own heap is not in it). Today's path is forced by hiding
`navigator.serviceWorker` from the page (an init script), which makes it fall back.
Each run uses a fresh 1-use link; the saved file is compared with the original.
MB = 10^6 bytes. Run: .venv/bin/python benchmarks/link_download.py [--size-mb 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

from _common import MB, PASSPHRASE, code_version, median, table, temp_dir, write_random_file
from web_bundle import browser_and_server

os.environ.setdefault("WALLET_CLIENT_KDF_FLOOR", "1,8192")

from wallet.client import ApiClient, Vault  # noqa: E402
from wallet.client.links import create_link  # noqa: E402

NO_SERVICE_WORKER = (
    "Object.defineProperty(Navigator.prototype, 'serviceWorker', { get: () => undefined });"
)
GOAL_RATIO = 1.5


def heap_used(cdp: Any) -> float:
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize"))


def one_run(
    browser: Any, vault: Vault, document_id: str, streamed: bool, digest: str
) -> tuple[float, float]:
    link = create_link(vault, [document_id], uses=1, purpose="Benchmark")
    context = browser.new_context(accept_downloads=True, viewport={"width": 360, "height": 740})
    if not streamed:
        context.add_init_script(script=NO_SERVICE_WORKER)
    page = context.new_page()
    page.set_default_timeout(600_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    try:
        page.goto(link.url)
        page.get_by_role("button", name="Open the documents").wait_for()
        base = heap_used(cdp)
        peak = [base]
        stop = threading.Event()
        samples: list[float] = []

        started = time.perf_counter()
        page.get_by_role("button", name="Open the documents").click()
        row = page.locator("[data-files] li")
        row.wait_for()
        if not streamed:
            # Today: the file comes into the page first (in the background), then Save.
            while row.get_attribute("data-ready") != "1":
                if row.get_attribute("data-failed"):
                    raise SystemExit("today's path failed to download the file")
                samples.append(heap_used(cdp))
                page.wait_for_timeout(100)
        with page.expect_download(timeout=600_000) as info:
            row.locator("[data-save]").click()
        download = info.value
        path = download.path()  # waits until the browser has the whole file
        elapsed = time.perf_counter() - started
        stop.set()
        samples.append(heap_used(cdp))
        peak.append(max(samples))
        with open(path, "rb") as saved:
            got = hashlib.file_digest(saved, "sha256").hexdigest()
        if got != digest:
            raise SystemExit("the saved file does not match the original")
        return elapsed, max(peak) - base
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mb * MB
    print(f"link_download: one {args.size_mb} MB document, code {code_version()}")
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    with temp_dir("wallet-bench-linkdl-") as work, browser_and_server() as (browser, server):
        vault, _recovery = Vault.create_account(
            ApiClient(server.url, timeout=600), "bench-link-dl", PASSPHRASE
        )
        source = Path(work) / "scan.pdf"
        write_random_file(source, size)
        with source.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        document_id, _version = vault.upload(source, "other", "Big scan")
        one_run(browser, vault, document_id, True, digest)  # warm: the worker's first install
        for _ in range(args.repeat):
            for streamed in (False, True):
                results[streamed].append(one_run(browser, vault, document_id, streamed, digest))
    rows = []
    rates = {}
    for streamed, name in (
        (False, "today: into the page, then saved"),
        (True, "streamed (service worker)"),
    ):
        times = [t for t, _ in results[streamed]]
        heaps = [h for _, h in results[streamed]]
        rates[streamed] = size / MB / median(times)
        rows.append(
            [
                name,
                f"{median(times):.2f}",
                f"{rates[streamed]:.1f}",
                f"{max(heaps) / MB:.1f}",
            ]
        )
    print(table(["path", "median s (open -> saved)", "MB/s", "page heap growth, max MB"], rows))
    ratio = rates[True] / rates[False]
    verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
    print(
        f"streamed / today: {ratio:.2f} (goal >= {GOAL_RATIO}: {verdict}), median of {args.repeat}"
    )


if __name__ == "__main__":
    main()
