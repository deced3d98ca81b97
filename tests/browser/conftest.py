"""Playwright fixtures: Debian's chromium against a real uvicorn server (run_live_server).

Never `playwright install`: the browser is the Debian package at /usr/bin/chromium
(scripts/test.sh installs it). The browser tests run once, in the SQLite pass: the pages
touch the database only through the API, which the rest of the suite tests on PostgreSQL too.
Set WALLET_BROWSER_ON_POSTGRES=1 to run them there as well.

Screenshots go to test-artifacts/screenshots (or $WALLET_TEST_ARTIFACTS/screenshots).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_PASSPHRASE, LiveServer, run_live_server, using_postgres

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = os.environ.get("WALLET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("WALLET_TEST_ARTIFACTS", ROOT / "test-artifacts"))
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# Every wait is for a condition and returns as soon as it holds: this ceiling only matters
# on a busy machine (a login's Argon2id in the page can take many seconds there).
WAIT_MS = 120_000

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the test extras install it
    sync_playwright = None  # type: ignore[assignment]
else:
    expect.set_options(timeout=WAIT_MS)


BROWSER_FIXTURES = {"browser", "playwright", "context", "page", "web_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = ""
    if sync_playwright is None:
        reason = "playwright is not installed (pip install -e '.[test]')"
    elif not Path(CHROMIUM).exists():
        reason = f"no chromium at {CHROMIUM} (apt-get install chromium)"
    elif using_postgres() and os.environ.get("WALLET_BROWSER_ON_POSTGRES") != "1":
        reason = "browser tests run in the SQLite pass"
    if reason:
        for item in items:
            here = Path(str(item.fspath)).parent == Path(__file__).parent
            # Tests without a browser (catalogues, headers, cookies) run everywhere.
            if here and BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
                item.add_marker(pytest.mark.skip(reason=reason))


def generate_protocol() -> None:
    """Writes web/src/generated/protocol.js from wallet/protocol (unchanged: left alone)."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_protocol.py")], check=True)


def bundle_is_stale() -> bool:
    stamp = WEB / "static" / "js" / ".built"
    if not stamp.exists():
        return True
    built = stamp.stat().st_mtime
    sources = [*(WEB / "src").rglob("*.js"), WEB / "package-lock.json", WEB / "build.mjs"]
    return any(path.stat().st_mtime > built for path in sources)


def build_web() -> None:
    """Builds web/static/js when the sources changed and node is here."""
    generate_protocol()
    if bundle_is_stale() and shutil.which("node") and (WEB / "node_modules" / "esbuild").exists():
        subprocess.run(["node", "build.mjs"], cwd=WEB, check=True, capture_output=True)
    if not (WEB / "static" / "js" / "pages").exists():
        pytest.fail("web/static/js is missing: run scripts/install.sh (needs node and npm)")


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    build_web()
    # The test server uses a cheap Argon2id cost; the page's floor is lowered to match.
    extra = {"WALLET_WEB_KDF_FLOOR": "1,8192"}
    with run_live_server(tmp_path_factory.mktemp("web"), extra) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """One Playwright driver for the session (a test that needs other browser flags launches
    its own browser from it)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


class PageProblems:
    """Console errors (CSP violations show up here) and uncaught exceptions of one page."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )


def new_context(
    browser: Browser, server: LiveServer, viewport: dict[str, int] = PHONE, **kw: Any
) -> BrowserContext:
    context = browser.new_context(
        base_url=server.url, viewport=viewport, locale=kw.pop("locale", "en-GB"), **kw
    )
    context.set_default_timeout(WAIT_MS)
    if AXE.exists():
        # An init script is injected by the DevTools protocol, so the page's CSP allows it.
        context.add_init_script(path=str(AXE))
    return context


@pytest.fixture
def context(browser: Browser, web_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = new_context(browser, web_server)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    problems = PageProblems()
    tab = context.new_page()
    problems.watch(tab)
    yield tab
    # Expected failures (a refused request the page handles) are logged by the browser as
    # "Failed to load resource"; anything else is a bug or a CSP violation.
    unexpected = [e for e in problems.errors if "Failed to load resource" not in e]
    assert not unexpected, "\n".join(unexpected)


def harness(page: Page, body: str, arg: Any = None) -> Any:
    """Runs `body` with `m` = the crypto harness module (web/src/testing/harness.js)."""
    script = f"async (arg) => {{ const m = await import('/static/js/testing/harness.js'); {body} }}"
    return page.evaluate(script, arg)


def axe_violations(page: Page, serious_only: bool = True) -> list[dict[str, Any]]:
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, { resultTypes: ["violations"] });
            return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5) }));
        }"""
    )
    if serious_only:
        results = [v for v in results if v["impact"] in ("serious", "critical")]
    return results


def screenshot(page: Page, name: str) -> Path:
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = folder / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def register(page: Page, handle: str, passphrase: str = TEST_PASSPHRASE) -> str:
    """Creates an account through the pages; returns the recovery key text shown once."""
    page.goto("/register")
    page.locator("main[data-page=register][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(passphrase)
    page.locator("#passphrase-again").fill(passphrase)
    page.locator("form[data-register] button[type=submit]").click()
    page.wait_for_url("**/recovery-sheet")
    page.locator("[data-sheet]").wait_for(state="visible")
    recovery = page.locator("[data-recovery-key]").inner_text()
    page.locator("#sheet-kept").check()
    page.locator("[data-continue]").click()
    page.wait_for_url("**/documents")
    return recovery.strip()


def login(page: Page, handle: str, passphrase: str = TEST_PASSPHRASE) -> None:
    page.goto("/login")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(passphrase)
    page.locator("form[data-login] button[type=submit]").click()
    page.wait_for_url("**/documents")
    page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")


def open_menu(page: Page) -> Any:
    """The main menu, opened: below about 600 px it folds behind the "Menu" button
    (base.html), which this presses if the menu is closed. Returns the nav locator."""
    nav = page.locator("nav.site-nav")
    toggle = page.locator("header [data-menu-toggle]")
    nav.wait_for(state="attached")
    expect(toggle).to_have_count(1)
    # Wait until the session shows the chrome, then open the menu if it is folded.
    expect(nav).not_to_have_attribute("hidden", "")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    return nav


def menu_link(page: Page, name: str | re.Pattern[str]) -> Any:
    """A link of the main menu, made visible: opens the folded menu (phone) and its "More"
    section when the link is in there. Use it instead of clicking page-wide links by name."""
    nav = open_menu(page)
    link = nav.get_by_role("link", name=name, include_hidden=True).first
    link.wait_for(state="attached")
    more = nav.locator("details[data-menu-more]")
    inside_more = more.count() and link.evaluate("(a, d) => d.contains(a)", more.element_handle())
    if inside_more and more.get_attribute("open") is None:
        more.locator("summary").click()
    expect(link).to_be_visible()
    return link


def soft_goto(page: Page, path: str) -> None:
    """Goes to `path` the way a link does (the page shell's soft navigation), so the unlocked
    wallet stays in memory - page.goto reloads the tab and forgets it."""
    page.evaluate(
        """(path) => { document.querySelector("main[data-page]")?.setAttribute("data-left", "");
            const a = document.createElement("a"); a.href = path;
            document.body.append(a); a.click(); a.remove(); }""",
        path,
    )
    page.wait_for_url(f"**{path}")
    # The page that was left is gone (going to the same address also swaps the page).
    page.locator("main[data-page]:not([data-left])").wait_for(state="attached")
