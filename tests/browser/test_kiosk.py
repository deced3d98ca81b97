"""Public-kiosk mode in Debian's Chromium: after "End session" and after the idle timeout,
nothing of the session remains in the browser (docs/threat-model.md, property 6): no cookie of the session,
nothing in localStorage, sessionStorage, IndexedDB, Cache Storage or a service worker, no
history entry that brings a page back, and no title or name in the page's JavaScript heap."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import (
    PageProblems,
    axe_violations,
    menu_link,
    new_context,
    screenshot,
    soft_goto,
)
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client.api import ApiClient
from wallet.client.vault import Vault

KIOSK = {"width": 1920, "height": 1080}

# Everything a page of this origin could have left behind.
STORAGE_PROBE = """async () => ({
  local: Object.keys(localStorage),
  session: Object.keys(sessionStorage),
  idb: (await indexedDB.databases()).map((d) => d.name),
  caches: await caches.keys(),
  workers: (await navigator.serviceWorker.getRegistrations()).length,
  historyState: history.state,
})"""

# Writes something in every storage API, as a careless script or an extension might: the wipe
# must remove it all, not only what the wallet itself never writes.
LITTER = """async () => {
  localStorage.setItem("left-behind", "x");
  sessionStorage.setItem("left-behind", "x");
  await new Promise((resolve, reject) => {
    const open = indexedDB.open("left-behind", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("s");
    open.onsuccess = () => { open.result.close(); resolve(); };
    open.onerror = () => reject(open.error);
  });
  const cache = await caches.open("left-behind");
  await cache.put("/left-behind", new Response("x"));
}"""


def owner_with_documents(server: LiveServer, tmp: Path, titles: list[str]) -> tuple[Vault, list]:
    """A wallet made by the Python client over real HTTP, with one small text file per title."""
    handle = f"k{secrets.token_hex(5)}"
    vault, _recovery = Vault.create_account(ApiClient(server.url), handle, TEST_PASSPHRASE)
    ids = []
    for number, title in enumerate(titles):
        path = tmp / f"paper-{number}.txt"
        path.write_text(f"{title} content", encoding="utf-8")
        ids.append(vault.upload(path, "other", title, media_type="text/plain")[0])
    return vault, ids


def heap_strings(page: Page, needles: list[str]) -> set[str]:
    """Which of `needles` appear anywhere in the page's JavaScript heap (a CDP heap snapshot)."""
    cdp = page.context.new_cdp_session(page)
    chunks: list[str] = []
    cdp.on("HeapProfiler.addHeapSnapshotChunk", lambda params: chunks.append(params["chunk"]))
    cdp.send("HeapProfiler.enable")
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
    cdp.detach()
    snapshot = "".join(chunks)
    return {needle for needle in needles if needle in snapshot}


def kiosk_login(page: Page, handle: str, passphrase: str = TEST_PASSPHRASE) -> None:
    """From the kiosk start page, by clicks (soft navigation), as a visitor would."""
    page.get_by_role("link", name="Open my wallet").click()
    page.wait_for_url("**/login")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(passphrase)
    page.locator("form[data-login] button[type=submit]").click()
    page.wait_for_url("**/documents")


def assert_nothing_left(context: BrowserContext, page: Page, secrets_: list[str]) -> None:
    cookies = {c["name"]: c for c in context.cookies()}
    # Only the kiosk's own markers come back with the fresh start page; nothing of the session.
    assert set(cookies) <= {"wallet_kiosk", "wallet_kiosk_idle"}, cookies
    assert all(c["expires"] == -1 for c in cookies.values()), cookies
    left = page.evaluate(STORAGE_PROBE)
    assert left == {
        "local": [],
        "session": [],
        "idb": [],
        "caches": [],
        "workers": 0,
        "historyState": None,
    }, left
    text = page.locator("body").inner_text()
    assert not [s for s in secrets_ if s in text]
    assert page.locator("[data-needs-session]").first.is_hidden()
    assert heap_strings(page, secrets_) == set()


# The page's module has mounted and finished its first work (shell.js sets data-ready), or the
# page has no script that mounts.
PAGE_SCRIPT_DONE = """() => {
  const main = document.querySelector("main[data-page]");
  return !main || !main.dataset.mounted || main.dataset.ready === "1";
}"""


def back_and_forward_show_nothing(page: Page, secrets_: list[str]) -> None:
    for move in (page.go_back, page.go_forward, page.go_back):
        move(wait_until="load")
        page.wait_for_function(PAGE_SCRIPT_DONE)  # a page script would have shown it by now
        assert page.evaluate("window.__wasHere") is None  # not the old page from the bfcache
        assert not [s for s in secrets_ if s in page.content()]
        assert "/documents/" not in page.url
        assert not [c for c in page.context.cookies() if c["name"] == "wallet_session"]


@pytest.fixture
def kiosk_page(browser: Any, web_server: LiveServer) -> Any:
    context = new_context(browser, web_server, viewport=KIOSK)
    problems = PageProblems()
    tab = context.new_page()
    problems.watch(tab)
    yield context, tab
    context.close()
    unexpected = [e for e in problems.errors if "Failed to load resource" not in e]
    assert not unexpected, "\n".join(unexpected)


def test_end_session_leaves_nothing(
    kiosk_page: Any, web_server: LiveServer, tmp_path: Path
) -> None:
    context, page = kiosk_page
    canary = f"Kiosk-canary-{secrets.token_hex(6)}"
    vault, [doc_id] = owner_with_documents(web_server, tmp_path, [canary])
    handle = vault.account["handle"]

    page.goto("/kiosk?idle=600")
    expect(page.locator("[data-kiosk-bar]")).to_be_visible()
    assert page.evaluate("document.documentElement.classList.contains('kiosk')")
    kiosk_cookie = next(c for c in context.cookies() if c["name"] == "wallet_kiosk")
    assert kiosk_cookie["expires"] == -1  # a session cookie

    # The language chosen on a kiosk lasts for the session only.
    page.locator("#language-select").select_option("fr")
    page.locator("form[data-language] button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    language = next(c for c in context.cookies() if c["name"] == "wallet_lang")
    assert language["expires"] == -1
    page.locator("#language-select").select_option("en")
    page.locator("form[data-language] button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    kiosk_login(page, handle)
    session = next(c for c in context.cookies() if c["name"] == "wallet_session")
    assert session["expires"] == -1 and session["httpOnly"]
    expect(page.locator(".doc-list")).to_contain_text(canary)
    page.locator(f'.doc-list a[href="/documents/{doc_id}"]').click()
    page.wait_for_url(f"**/documents/{doc_id}")
    expect(page.locator("[data-doc-title]")).to_have_text(canary)
    # Kiosk navigation adds no history entry: Back cannot reach this page later.
    assert page.evaluate("history.length") <= 2
    # A file saved on a public computer would stay there for the next person.
    expect(page.locator("[data-download]")).to_be_hidden()
    expect(page.locator(".kiosk-countdown")).to_have_text(re.compile(r"^\d+:\d\d$"))
    assert axe_violations(page) == []
    screenshot(page, "kiosk-document")

    page.evaluate(LITTER)
    page.evaluate("window.__wasHere = 1")
    # The control: before the wipe the heap holds the title and the name.
    assert heap_strings(page, [canary, handle]) == {canary, handle}

    page.get_by_role("button", name="End session").click()
    page.wait_for_url("**/kiosk?ended=ended*")
    expect(page.locator("[data-ended]")).to_be_visible()
    assert "idle=600" in page.url  # the kiosk keeps its own setting, not the person's data
    assert_nothing_left(context, page, [canary, handle])
    assert axe_violations(page) == []
    screenshot(page, "kiosk-ended")
    back_and_forward_show_nothing(page, [canary, handle])

    # The server session is over: the old cookie's token no longer opens anything.
    response = vault.api.http.get(
        "/api/v1/accounts/me", headers={"Cookie": f"wallet_session={session['value']}"}
    )
    assert response.status_code == 401


def test_idle_timeout_wipes_everything(
    kiosk_page: Any, web_server: LiveServer, tmp_path: Path
) -> None:
    context, page = kiosk_page
    canary = f"Idle-canary-{secrets.token_hex(6)}"
    vault, _ids = owner_with_documents(web_server, tmp_path, [canary])
    handle = vault.account["handle"]

    page.goto("/kiosk?idle=8")
    kiosk_login(page, handle)
    expect(page.locator(".doc-list")).to_contain_text(canary)
    page.evaluate(LITTER)
    page.evaluate("window.__wasHere = 1")
    # The countdown is visible and warns before the end.
    expect(page.locator(".kiosk-alert")).to_be_visible()
    page.wait_for_url("**/kiosk?ended=idle*")
    assert_nothing_left(context, page, [canary, handle])
    back_and_forward_show_nothing(page, [canary, handle])


def test_idle_setting_only_within_bounds(kiosk_page: Any) -> None:
    context, page = kiosk_page
    for asked, expected in (("1", "180"), ("99999", "180"), ("abc", None), ("300", "300")):
        response = page.goto(f"/kiosk?idle={asked}")
        assert response is not None
        if expected is None:
            assert response.status == 422  # not a number: FastAPI's own plain refusal
            continue
        idle = next(c for c in context.cookies() if c["name"] == "wallet_kiosk_idle")
        assert idle["value"] == expected


def test_kiosk_page_on_a_phone_and_by_keyboard(page: Page) -> None:
    page.goto("/kiosk")
    expect(page.locator("[data-kiosk-bar]")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "kiosk-start")
    # Keyboard only: the skip link, then the End session button are reachable with Tab.
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert "End session" in reached
    page.keyboard.press("Shift+Tab")
    while page.evaluate("document.activeElement.textContent.trim()") != "End session":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/kiosk?ended=ended")


def test_print_qr_draws_the_link_here(kiosk_page: Any) -> None:
    _context, page = kiosk_page
    page.goto("/kiosk")
    link = "http://127.0.0.1/s/abc#secret-fragment"
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.evaluate(
        """(link) => {
            window.print = () => { window.__printed = true; };
            const out = document.createElement("output");
            out.id = "share-link"; out.textContent = link;
            const button = document.createElement("button");
            button.type = "button"; button.dataset.printQr = "#share-link";
            button.textContent = "Print this QR";
            document.querySelector("main").append(out, button);
        }""",
        link,
    )
    page.get_by_role("button", name="Print this QR").click()
    expect(page.locator("[data-qr-sheet] svg.qr")).to_be_visible()
    assert page.evaluate("window.__printed") is True
    assert not [u for u in requests if "secret-fragment" in u]
    screenshot(page, "kiosk-print-qr")


def test_chromium_honours_clear_site_data_alone(kiosk_page: Any) -> None:
    """The server's header by itself empties every storage (no help from the page script):
    a kiosk still gets wiped if the script is stopped before it can clean up."""
    context, page = kiosk_page
    page.goto("/kiosk")
    page.evaluate(LITTER)
    context.add_cookies([{"name": "left-behind", "value": "x", "url": page.url}])
    assert page.evaluate(STORAGE_PROBE)["local"] == ["left-behind"]
    page.evaluate("fetch('/web/kiosk/end', { method: 'POST', credentials: 'same-origin' })")
    page.wait_for_function("localStorage.length === 0")
    left = page.evaluate(STORAGE_PROBE)
    assert (left["local"], left["session"], left["idb"], left["caches"]) == ([], [], [], []), left
    assert context.cookies() == []


def test_my_pages_at_kiosk_width(kiosk_page: Any, web_server: LiveServer, tmp_path: Path) -> None:
    _context, page = kiosk_page
    vault, _ids = owner_with_documents(web_server, tmp_path, ["Payslip", "Lease"])
    page.goto("/kiosk?idle=600")
    kiosk_login(page, vault.account["handle"])
    for link, url, ready in (
        ("Meeting mode", "**/meeting", "[data-pick-list] li"),
        ("Inbox", "**/inbox", "[data-inbox]"),
        ("Proxies", "**/proxy", "[data-proxies]"),
    ):
        if link == "Inbox":  # the menu shows it to members of an organisation only
            soft_goto(page, "/inbox")
        else:
            menu_link(page, link).click()
        page.wait_for_url(url)
        expect(page.locator(ready).first).to_be_visible()
        assert axe_violations(page) == [], link
        screenshot(page, f"kiosk-{url.strip('*/')}")


def test_another_site_cannot_wipe_the_wallet(web_server: LiveServer) -> None:
    with httpx.Client(base_url=web_server.url) as http:
        refused = http.post("/web/kiosk/end", headers={"Sec-Fetch-Site": "cross-site"})
        assert refused.status_code == 403
        assert "clear-site-data" not in refused.headers
        ours = http.post("/web/kiosk/end", headers={"Sec-Fetch-Site": "same-origin"})
        assert ours.status_code == 204
        assert ours.headers["clear-site-data"] == '"cache", "cookies", "storage"'
        assert ours.headers["cache-control"] == "no-store"
