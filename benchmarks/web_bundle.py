"""JavaScript shipped to the phone pages, gzip-compressed. Goal: <= 250 KB on first load.

Measured in Debian's chromium against a live `wallet serve`: every script the browser fetches
(entries, shared chunks, and the chunks a page imports lazily while it starts) is counted once
per visit, at its gzip -9 size (what a server with compression sends).

  cold load  = a fresh browser tab opening that one address (empty cache)
  journey    = start -> register -> recovery sheet -> documents -> add -> document shown,
               moving by links as a person does; each script counted once (the cache)

Run: .venv/bin/python benchmarks/web_bundle.py  (needs web/static/js: scripts/install.sh)
"""

from __future__ import annotations

import contextlib
import gzip
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import FAST_KDF, ROOT, live_server, table

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATIC = ROOT / "web" / "static"
GOAL_KB = 250
PASS = "green bicycle under the rain"


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


@contextlib.contextmanager
def browser_and_server(extra_env: dict[str, str] | None = None) -> Iterator[tuple[Any, Any]]:
    from playwright.sync_api import sync_playwright

    if not (STATIC / "js" / "pages").exists():
        sys.exit("web/static/js is missing: run scripts/install.sh first")
    env = {**FAST_KDF, "WALLET_WEB_KDF_FLOOR": "1,8192", **(extra_env or {})}
    with live_server(env, prefix="wallet-bench-web-") as (server, _work), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser, server
        finally:
            browser.close()


class ScriptLog:
    """Scripts a tab fetched, by path under /static, with the gzip size of what was served."""

    def __init__(self, page: Any) -> None:
        self.sizes: dict[str, int] = {}
        page.on("requestfinished", self._seen)

    def _seen(self, request: Any) -> None:
        url = request.url.split("?")[0]
        path = url.split("/static/", 1)[-1]
        if "/static/" in url and url.endswith(".js") and path not in self.sizes:
            response = request.response()
            self.sizes[path] = len(gzip.compress(response.body(), compresslevel=9))

    @property
    def paths(self) -> list[str]:
        return list(self.sizes)

    def gzip_bytes(self) -> int:
        return sum(self.sizes.values())


def wait_ready(page: Any) -> None:
    page.locator("main[data-ready]").wait_for(state="attached")
    page.wait_for_load_state("networkidle")


def register(page: Any) -> None:
    page.goto("/register")
    wait_ready(page)
    page.locator("#handle").fill(f"bench-{secrets.token_hex(4)}")
    page.locator("#passphrase").fill(PASS)
    page.locator("#passphrase-again").fill(PASS)
    page.locator("form[data-register] button[type=submit]").click()
    page.wait_for_url("**/recovery-sheet")
    page.locator("[data-sheet]").wait_for(state="visible")


def main() -> None:
    rows = []
    with browser_and_server() as (browser, server):
        for path in ("/", "/register", "/login", "/documents", "/recovery-sheet"):
            context = browser.new_context(
                base_url=server.url, viewport={"width": 360, "height": 740}
            )
            page = context.new_page()
            log = ScriptLog(page)
            page.goto(path)
            wait_ready(page)
            rows.append((f"cold load {path}", len(log.paths), log.gzip_bytes()))
            context.close()

        context = browser.new_context(base_url=server.url, viewport={"width": 360, "height": 740})
        page = context.new_page()
        log = ScriptLog(page)
        page.goto("/")
        wait_ready(page)
        register(page)
        rows.append(("journey: start + register + sheet", len(log.paths), log.gzip_bytes()))
        page.locator("#sheet-kept").check()
        page.locator("[data-continue]").click()
        page.wait_for_url("**/documents")
        wait_ready(page)
        page.get_by_role("link", name="Add a document").first.click()
        wait_ready(page)
        scan = Path("/tmp") / f"bench-{secrets.token_hex(4)}.png"
        scan.write_bytes(b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(1000))
        page.locator("#file").set_input_files(str(scan))
        page.locator("[data-submit]").click()
        page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
        page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
        page.locator("[data-show]").click()
        page.wait_for_load_state("networkidle")
        scan.unlink()
        rows.append(("journey: + documents, add, show", len(log.paths), log.gzip_bytes()))
        context.close()

    all_js = sorted((STATIC / "js").rglob("*.js"))
    total = sum(gzip_size(p) for p in all_js if "testing" not in p.parts)
    print(
        table(
            ["what", "scripts", "gzip KB"],
            [(what, n, f"{size / 1000:.1f}") for what, n, size in rows]
            + [("every bundle file (upper bound)", len(all_js), f"{total / 1000:.1f}")],
        )
    )
    worst = max(size for _w, _n, size in rows)
    verdict = "meets" if worst <= GOAL_KB * 1000 else "MISSES"
    print(f"\nlargest first load: {worst / 1000:.1f} KB gzip, {verdict} the goal of {GOAL_KB} KB")


if __name__ == "__main__":
    main()
