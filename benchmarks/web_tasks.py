"""A person's main tasks on a phone (360×740, headless Chromium), counted in taps and scrolls.

  create a wallet        start page -> "Create my wallet" -> form -> recovery sheet -> documents
  add a document         documents -> "Add a document" -> file, type, title -> "Lock and save"
  share it once, PIN     the document's page -> the share form (one use, a PIN) -> the link
  one-shot mandate       -> Proxies -> find the person, compare the code, one area, "Once only"

taps    = every tap a person makes: a button, a link, a checkbox, a field before typing in it,
          a list to choose from; typing itself is not counted.
scrolls = screens scrolled to reach what is tapped next: before each tap, if the element is not
          on the screen shown, the distance to it in screen heights (740 px), rounded up.
screens = pages shown (a navigation, soft or not, is one more).

The same script runs against any build: run it once from the main checkout and once from this
branch to print before and after (the server and the pages come from the checkout that runs it):
  cd /work/main && PYTHONPATH=$PWD .venv/bin/python <branch>/benchmarks/web_tasks.py
  cd <branch> && PYTHONPATH=$PWD /work/main/.venv/bin/python benchmarks/web_tasks.py
"""

from __future__ import annotations

import contextlib
import math
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import FAST_KDF, LiveServer, temp_dir
from web_bundle import ARGS, CHROMIUM, PASS, wait_ready

from wallet.client import ApiClient, Vault

PHONE = {"width": 360, "height": 740}


class Counter:
    """Taps, scrolls and screens of one task."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.taps = 0
        self.scrolls = 0
        self.screens = 1
        self.url = page.url

    def _reach(self, locator: Any) -> None:
        locator.wait_for(state="visible")
        box = locator.bounding_box()
        if box is None:
            return
        # bounding_box() is relative to the viewport: outside [0, 740] means scrolling.
        if box["y"] + box["height"] > PHONE["height"]:
            self.scrolls += math.ceil(
                (box["y"] + box["height"] - PHONE["height"]) / PHONE["height"]
            )
        elif box["y"] < 0:
            self.scrolls += math.ceil(-box["y"] / PHONE["height"])

    def _navigated(self) -> None:
        if self.page.url != self.url:
            self.url = self.page.url
            self.screens += 1

    def tap(self, locator: Any) -> None:
        self._reach(locator)
        self.taps += 1
        locator.click()

    def check(self, locator: Any) -> None:
        self._reach(locator)
        self.taps += 1
        locator.check()

    def fill(self, locator: Any, text: str) -> None:
        self._reach(locator)
        self.taps += 1
        locator.fill(text)

    def choose(self, locator: Any, value: str) -> None:
        self._reach(locator)
        self.taps += 2  # open the list, pick one
        locator.select_option(value)

    def files(self, locator: Any, path: Path) -> None:
        # A file input may be styled away behind its label: reach what is visible.
        label = self.page.locator(f"label[for='{locator.get_attribute('id')}']")
        self._reach(label if label.count() else locator)
        self.taps += 2  # the button, then the file in the phone's picker
        locator.set_input_files(str(path))

    def arrived(self, url_glob: str, page_name: str) -> None:
        self.page.wait_for_url(url_glob)
        self.page.locator(f"main[data-page={page_name}][data-ready]").wait_for(state="attached")
        self._navigated()

    def menu(self, href: str) -> None:
        """Goes to a page of the main menu, opening the folded menu and "More" when needed."""
        page = self.page
        toggle = page.locator("header [data-menu-toggle]")
        if (
            toggle.count()
            and toggle.is_visible()
            and toggle.get_attribute("aria-expanded") != "true"
        ):
            self.tap(toggle)
        link = page.locator(f"nav.site-nav a[href='{href}']").first
        more = page.locator("nav.site-nav details[data-menu-more]")
        if more.count() and not link.is_visible():
            self.tap(more.locator("summary"))
        self.tap(link)


def create_wallet(page: Any, handle: str) -> Counter:
    page.goto("/")
    wait_ready(page)
    count = Counter(page)
    count.tap(page.locator("main a[href='/register']").first)
    count.arrived("**/register", "register")
    count.fill(page.locator("#handle"), handle)
    count.fill(page.locator("#passphrase"), PASS)
    count.fill(page.locator("#passphrase-again"), PASS)
    count.tap(page.locator("form[data-register] button[type=submit]"))
    page.wait_for_url("**/recovery-sheet")
    page.locator("[data-sheet]").wait_for(state="visible")
    count._navigated()
    count.check(page.locator("#sheet-kept"))
    count.tap(page.locator("[data-continue]"))
    count.arrived("**/documents", "documents")
    return count


def add_document(page: Any, scan: Path) -> Counter:
    count = Counter(page)
    count.tap(page.locator("main a[href='/documents/new']").first)
    count.arrived("**/documents/new", "upload")
    count.files(page.locator("#file"), scan)
    type_select = page.locator("#type")
    if type_select.count():
        count.choose(type_select, "payslip")
    count.fill(page.locator("#title"), "Payslip March")
    count.tap(page.locator("[data-submit]"))
    page.wait_for_url("**/documents/*")
    page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
    page.locator("[data-doc]").wait_for(state="visible")
    count._navigated()
    return count


def share_once_with_pin(page: Any) -> Counter:
    count = Counter(page)
    doc_id = page.locator("main[data-document-id]").get_attribute("data-document-id")
    share_button = page.locator("main [data-share-document]")
    if share_button.count():
        count.tap(share_button)
    else:
        count.menu("/share")
    count.arrived("**/share*", "share")
    box = page.locator(f"[data-docs] input[value='{doc_id}']")
    box.wait_for(state="attached")
    if not box.is_checked():
        count.check(box)
    uses = page.locator("#share-uses")
    if uses.input_value() != "1":
        count.fill(uses, "1")
    count.fill(page.locator("#share-pin"), "4821")
    count.tap(page.locator("form[data-share] [data-submit]"))
    page.locator("[data-result]").wait_for(state="visible")
    return count


def one_shot_mandate(page: Any, proxy_handle: str) -> Counter:
    count = Counter(page)
    count.menu("/proxy")
    count.arrived("**/proxy", "proxy")
    form = page.locator("form[data-mandate]")
    count.fill(form.locator("#mandate-handle"), proxy_handle)
    count.tap(form.locator("button", has_text="Find"))
    form.locator("[data-safety-code]").wait_for(state="visible")
    count.check(form.locator("#mandate-code-ok"))
    count.check(form.locator("input[name=categories][value=housing]"))
    count.choose(form.locator("#mandate-duration"), "once")
    count.fill(form.locator("#mandate-purpose"), "Rent file at the CPAS")
    count.tap(form.locator("[data-submit]"))
    page.locator("[data-attestation]").wait_for(state="visible")
    return count


@contextlib.contextmanager
def browser_and_server(work: Path) -> Iterator[tuple[Any, LiveServer]]:
    """Like web_bundle's, with a patient start: a busy machine can take a minute to migrate."""
    from playwright.sync_api import sync_playwright

    server = LiveServer(work / "data", {**FAST_KDF, "WALLET_WEB_KDF_FLOOR": "1,8192"})
    server.start(timeout=300)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                yield browser, server
            finally:
                browser.close()
    finally:
        server.stop()


def main() -> None:
    rows: list[tuple[str, Counter]] = []
    with temp_dir("wallet-bench-tasks-") as work, browser_and_server(work) as (browser, server):
        scan = work / "payslip.pdf"
        scan.write_bytes(b"%PDF-1.4\n% a payslip\n")
        proxy, _ = Vault.create_account(
            ApiClient(server.url), f"bench-proxy-{secrets.token_hex(3)}", PASS
        )
        context = browser.new_context(base_url=server.url, viewport=PHONE, locale="en-GB")
        context.set_default_timeout(120_000)
        page = context.new_page()
        rows.append(("create a wallet", create_wallet(page, f"bench-{secrets.token_hex(4)}")))
        rows.append(("add a document", add_document(page, scan)))
        rows.append(("share it once with a PIN", share_once_with_pin(page)))
        rows.append(("give a one-shot mandate", one_shot_mandate(page, proxy.account["handle"])))
        context.close()
    build = Path(sys.modules["wallet"].__file__ or "").resolve().parents[1]
    print(f"web tasks at 360x740 (build: {build})")
    print(f"{'task':<28}{'taps':>6}{'scrolls':>9}{'screens':>9}")
    for name, count in rows:
        print(f"{name:<28}{count.taps:>6}{count.scrolls:>9}{count.screens:>9}")


if __name__ == "__main__":
    main()
