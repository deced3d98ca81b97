"""Quick exit (issue 19): the time to leave the wallet, in headless Chromium at 4x CPU
throttle (CDP Emulation.setCPUThrottlingRate), on a phone-sized page with the documents list
on screen.

  screen empty  = from the click to the end of the synchronous part of quickExit(): the keys are
                  overwritten, the page emptied, the logout request and the storage clean-up
                  started, location.replace called (nothing of the wallet is on screen after it)
  neutral shown = from the click to DOMContentLoaded of the neutral page (served by a Playwright
                  route here: no internet; a real site adds its own network time)

Both from the same clock (performance.timeOrigin + performance.now()). Median of REPEAT runs.
Run: .venv/bin/python benchmarks/quick_exit.py [--repeat 10] [--throttle 4]
"""

from __future__ import annotations

import argparse
import os
import re

from _common import PASSPHRASE, median, table
from web_bundle import browser_and_server

os.environ.setdefault("WALLET_CLIENT_KDF_FLOOR", "1,8192")

from wallet.client import ApiClient, Vault  # noqa: E402

NEUTRAL = "https://www.wikipedia.org/"
CLICK = """() => { const t0 = performance.timeOrigin + performance.now();
  document.querySelector('[data-quick-exit]').click();
  return [t0, performance.timeOrigin + performance.now()]; }"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--throttle", type=float, default=4)
    args = parser.parse_args()
    empty: list[float] = []
    shown: list[float] = []
    with browser_and_server() as (browser, server):
        handle = "bench-exit"
        vault, _ = Vault.create_account(ApiClient(server.url), handle, PASSPHRASE)
        for n in range(5):
            path = server.data_dir.parent / f"paper-{n}.pdf"
            path.write_bytes(b"%PDF-1.4 paper")
            vault.upload(path, "other", f"Paper {n}")
        for _ in range(args.repeat):
            context = browser.new_context(
                base_url=server.url, viewport={"width": 360, "height": 740}
            )
            context.route(
                re.compile(r"^https://www\.wikipedia\.org/.*"),
                lambda route: route.fulfill(
                    status=200, content_type="text/html", body="<!doctype html><title>W</title>"
                ),
            )
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto("/login")
            page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
            page.locator("#handle").fill(handle)
            page.locator("#passphrase").fill(PASSPHRASE)
            page.locator("form[data-login] button[type=submit]").click()
            page.wait_for_url("**/documents")
            page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.throttle})
            t0, t1 = page.evaluate(CLICK)
            page.wait_for_url(NEUTRAL)
            page.wait_for_load_state("domcontentloaded")
            loaded = page.evaluate(
                "() => performance.timeOrigin + "
                "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
            )
            empty.append(t1 - t0)
            shown.append(loaded - t0)
            context.close()
    print(f"quick exit, {args.throttle:g}x CPU throttle, 360 px, median of {args.repeat}")
    print(
        table(
            ["measure", "median ms", "max ms"],
            [
                ("screen empty", f"{median(empty):.1f}", f"{max(empty):.1f}"),
                ("neutral shown", f"{median(shown):.0f}", f"{max(shown):.0f}"),
            ],
        )
    )


if __name__ == "__main__":
    main()
