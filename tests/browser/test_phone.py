"""What must be true on a phone (issue 12): every page at 360×740, in all five languages.

On each page (owner, proxy, worker, kiosk, link, login, register, recovery sheet):
- no sideways scroll at 360 px;
- axe-core finds no serious or critical issue;
- every visible interactive element is at least 44×44 px (a checkbox counts with its label;
  a link inside a sentence is exempt, as in WCAG 2.5.5);
- on the owner's pages, the heading and the page's main action are within the first 740 px.
Screenshots of every page in French and Arabic go to test-artifacts/screenshots/phone-*.

Arabic is written right to left: the page gets dir="rtl" from base.html. If this build has no
Arabic yet, the English pages are mirrored by hand (dir="rtl") so the layout is still checked.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import (
    PHONE,
    PageProblems,
    axe_violations,
    login,
    menu_link,
    new_context,
    open_menu,
    screenshot,
    soft_goto,
)
from tests.browser.test_inbox import new_worker
from tests.browser.test_kiosk import owner_with_documents
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import emergency as emergencylib
from wallet.client.contacts import PinStore
from wallet.client.grants import create_org_grant
from wallet.client.links import create_link
from wallet.client.mandates import create_mandate
from wallet.client.organisations import add_member, create_org
from web.i18n import LANGUAGES

LANGS = ["en", "fr", "nl", "de", "ar"]
SCREENSHOT_LANGS = {"fr", "ar"}
TARGET = 44  # px, WCAG 2.5.5
# A long German compound: the type list and the document page must wrap it, not the page.
LONG_TITLE = "Krankenkassenmitgliedschaftsbescheinigung-2026"

# Owner pages: path, the main action (a selector inside main) that must be in the first screen.
OWNER_PAGES: list[tuple[str, str | None]] = [
    ("/documents", "a.button.primary[href='/documents/new']"),
    ("/documents/{doc}", "[data-show]"),
    ("/documents/new", "input[type=file]"),
    ("/profile", "form input, form select"),
    ("/share", "input[name=how]"),
    ("/links", "a.button.primary"),
    ("/grants", "a.button.primary"),
    ("/received", None),
    ("/journal", None),
    ("/requests", None),
    ("/notes", "form input, form textarea, form select"),
    ("/meeting", "input"),
    ("/proxy", None),
    ("/account", None),
    ("/safety", None),
    ("/emergency", "form[data-add] input"),
]

MEASURE = """() => {
  const selector = 'a[href], button, select, input:not([type=hidden]), textarea, summary, [role=button]';
  const seen = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return null;
    if (el.closest('[hidden], [aria-hidden="true"], .visually-hidden')) return null;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none') return null;
    if (r.bottom + scrollY < 0 || r.right + scrollX < 0) return null;  // off screen (skip link)
    return r;
  };
  const inSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display === 'inline') block = block.parentElement;
    return !!block && block.textContent.trim().length > el.textContent.trim().length + 1;
  };
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    let r = seen(el);
    if (!r || inSentence(el)) continue;
    let left = r.left, top = r.top, right = r.right, bottom = r.bottom;
    if ((el.type === 'checkbox' || el.type === 'radio') && el.labels) {
      for (const label of el.labels) {
        const l = label.getBoundingClientRect();
        left = Math.min(left, l.left); top = Math.min(top, l.top);
        right = Math.max(right, l.right); bottom = Math.max(bottom, l.bottom);
      }
    }
    const w = right - left, h = bottom - top;
    if (w < TARGET - 0.5 || h < TARGET - 0.5) {
      const name = (el.getAttribute('aria-label') || el.textContent || el.name || el.id || '').trim();
      small.push(`${el.tagName.toLowerCase()} "${name.slice(0, 40)}" ${Math.round(w)}x${Math.round(h)}`);
    }
  }
  return small;
}""".replace("TARGET", str(TARGET))


@dataclass
class World:
    owner: Any
    doc_id: str
    proxy: Any
    mandate_id: str
    worker: Any
    link_url: str


@pytest.fixture(scope="module")
def worlds(
    web_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], World]:
    """One world per language: after login the wallet switches to the language its owner's
    profile remembers (kiosk_hooks.js), so people met in one language keep it."""
    made: dict[str, World] = {}

    def world_in(lang: str) -> World:
        if lang not in made:
            made[lang] = make_world(web_server, tmp_path_factory.mktemp(f"phone-{lang}"))
        return made[lang]

    return world_in


@pytest.fixture(scope="module")
def world(worlds: Callable[[str], World]) -> World:
    return worlds("en")


def make_world(web_server: LiveServer, tmp: Path) -> World:
    owner, ids = owner_with_documents(web_server, tmp, [LONG_TITLE, "Bail"])
    proxy = new_worker(web_server)
    mandate = create_mandate(
        owner,
        proxy.account["handle"],
        categories=[],
        document_ids=[ids[0]],
        actions=["view"],
        duration="1m",
        purpose="Dossier logement au CPAS",
        pins=PinStore(None),
    )
    worker = new_worker(web_server)
    admin = new_worker(web_server)
    team = create_org(admin, f"Equipe {secrets.token_hex(3)}")
    add_member(admin, team.handle, worker.account["handle"], pins=PinStore(None))
    create_org_grant(
        owner, team.handle, purpose="Suivi", document_ids=[ids[1]], pins=PinStore(tmp / "p.json")
    )
    link = create_link(owner, [ids[1]], uses=3, purpose="Logement", public_url=web_server.url)
    # The proxy is also the owner's trusted person: both sides of /emergency have a row.
    emergencylib.add(
        owner, proxy.account["handle"], access="view", wait_days=7, pins=PinStore(None)
    )
    mandate_id = getattr(mandate, "id", None) or mandate["id"]
    return World(owner, ids[0], proxy, str(mandate_id), worker, link.url)


class Phone:
    """One 360×740 tab in one language, with the checks collected rather than stopping."""

    def __init__(self, browser: Browser, server: LiveServer, lang: str) -> None:
        self.lang = lang
        self.forced_rtl = lang == "ar" and "ar" not in LANGUAGES
        self.context: BrowserContext = new_context(browser, server, viewport=PHONE)
        cookie = "en" if self.forced_rtl else lang
        self.context.add_cookies([{"name": "wallet_lang", "value": cookie, "url": server.url}])
        self.problems = PageProblems()
        self.page = self.context.new_page()
        self.problems.watch(self.page)
        self.failures: list[str] = []

    def ready(self) -> None:
        self.page.locator("main[data-page][data-ready]").wait_for(state="attached")
        if self.forced_rtl:
            self.page.evaluate("document.documentElement.dir = 'rtl'")
        expect(self.page.locator("html")).to_have_attribute(
            "dir", "rtl" if self.lang == "ar" else "ltr"
        )
        if not self.forced_rtl:
            expect(self.page.locator("html")).to_have_attribute("lang", self.lang)

    def check(
        self, name: str, action: str | None = None, heading: bool = False, starts: bool = False
    ) -> None:
        """`starts`: the main action only has to start on the first screen (a long block)."""
        page = self.page
        self.ready()
        page.evaluate("window.scrollTo(0, 0)")
        where = f"[{self.lang}] {name}"
        width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        if width[0] > width[1]:
            self.failures.append(f"{where}: sideways scroll ({width[0]} px > {width[1]} px)")
        for small in page.evaluate(MEASURE):
            self.failures.append(f"{where}: tap target {small}")
        for violation in axe_violations(page):
            self.failures.append(f"{where}: axe {violation['id']} {violation['nodes'][:2]}")
        if heading:
            for label, selector in (("heading", "main h1"), ("main action", action)):
                if selector is None:
                    continue
                target = page.locator(f"main :is({selector}) >> visible=true").first
                box = target.bounding_box() if target.is_visible() else None
                if box is None:
                    self.failures.append(f"{where}: no visible {label} ({selector})")
                elif box["y"] + (0 if starts and label != "heading" else box["height"]) > 740:
                    bottom = round(box["y"] + box["height"])
                    self.failures.append(f"{where}: {label} ends at {bottom} px, below 740")
        if self.lang in SCREENSHOT_LANGS:
            screenshot(page, f"phone-{self.lang}-{name}")

    def close(self) -> list[str]:
        self.context.close()
        unexpected = [e for e in self.problems.errors if "Failed to load resource" not in e]
        return self.failures + unexpected


@pytest.mark.parametrize("lang", LANGS)
def test_owner_pages_on_a_phone(
    lang: str, browser: Browser, web_server: LiveServer, worlds: Callable[[str], World]
) -> None:
    world = worlds(lang)
    phone = Phone(browser, web_server, lang)
    page = phone.page
    login(page, world.owner.account["handle"])
    for path, action in OWNER_PAGES:
        soft_goto(page, path.format(doc=world.doc_id))
        name = path.format(doc="one").strip("/").replace("/", "-")
        phone.check(name, action, heading=True)
    # The menu, open, and its "More" section, on the documents page.
    soft_goto(page, "/documents")
    phone.ready()
    open_menu(page)
    page.locator("nav.site-nav details[data-menu-more] > summary").click()
    phone.check("menu-open")
    failures = phone.close()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("lang", LANGS)
def test_proxy_and_worker_pages_on_a_phone(
    lang: str, browser: Browser, web_server: LiveServer, worlds: Callable[[str], World]
) -> None:
    world = worlds(lang)
    phone = Phone(browser, web_server, lang)
    page = phone.page
    login(page, world.proxy.account["handle"])
    soft_goto(page, "/proxy")
    phone.check("proxy-received")
    soft_goto(page, f"/proxy/for/{world.mandate_id}")
    phone.check("proxy-acting")
    soft_goto(page, "/emergency")
    phone.check("emergency-helper")
    failures = phone.close()

    phone = Phone(browser, web_server, lang)
    login(phone.page, world.worker.account["handle"])
    # A member of an organisation has the inbox in the menu.
    open_menu(phone.page).locator("a[href='/inbox']").click()
    phone.page.wait_for_url("**/inbox")
    phone.check("worker-inbox")
    failures += phone.close()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("lang", LANGS)
def test_public_pages_on_a_phone(
    lang: str, browser: Browser, web_server: LiveServer, worlds: Callable[[str], World]
) -> None:
    world = worlds(lang)
    phone = Phone(browser, web_server, lang)
    page = phone.page
    for path, name in (("/", "start"), ("/login", "login"), ("/register", "register")):
        page.goto(path)
        phone.check(name)
    # The link page, as the person who receives it.
    page.goto(world.link_url)
    phone.check("link")
    # The recovery sheet, right after registering.
    page.goto("/register")
    phone.ready()
    page.locator("#handle").fill(f"p{secrets.token_hex(5)}")
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("#passphrase-again").fill(TEST_PASSPHRASE)
    page.locator("form[data-register] button[type=submit]").click()
    page.wait_for_url("**/recovery-sheet")
    page.locator("[data-sheet]").wait_for(state="visible")
    phone.check("recovery-sheet", "[data-recovery-key]", heading=True, starts=True)
    failures = phone.close()

    phone = Phone(browser, web_server, lang)
    phone.page.goto("/kiosk?idle=600")
    phone.check("kiosk")
    failures += phone.close()
    assert not failures, "\n".join(failures)


def test_a_menu_that_folds_behind_a_button(page: Page, world: World) -> None:
    """The folded menu: a real button with aria-expanded and aria-controls, opened by keyboard,
    closed with Escape (focus back on the button); the inbox only for organisation members."""
    login(page, world.owner.account["handle"])
    toggle = page.locator("header [data-menu-toggle]")
    nav = page.locator("nav.site-nav")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert toggle.get_attribute("aria-controls") == nav.get_attribute("id")
    expect(nav).to_be_hidden()
    heading_before = page.locator("main h1").bounding_box()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Add a document")).to_be_visible()
    # Rare entries wait under "More"; the inbox is not offered to a person outside any team.
    expect(nav.get_by_role("link", name="Notes")).to_be_hidden()
    expect(nav.locator("a[href='/inbox']")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(nav).to_be_hidden()
    # Opening and closing did not move the page under it.
    assert page.locator("main h1").bounding_box() == heading_before
    menu_link(page, "Notes").click()
    page.wait_for_url("**/notes")
    expect(toggle).to_have_attribute("aria-expanded", "false")


def test_long_values_keep_their_shape(page: Page, world: World) -> None:
    """The recovery key in whole 4-letter groups, a handle not cut inside a word, a long
    German type name inside 360 px: measured on the element boxes."""
    handle = f"sunny-canyon-{secrets.randbelow(90) + 10}"
    page.goto("/register")
    page.locator("main[data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("#passphrase-again").fill(TEST_PASSPHRASE)
    page.locator("form[data-register] button[type=submit]").click()
    page.wait_for_url("**/recovery-sheet")
    key = page.locator("[data-recovery-key]")
    key.wait_for(state="visible")
    text = key.inner_text().strip()
    assert len(text) == 73 and text.startswith("WR1-")
    groups = key.locator(".group")
    boxes = [groups.nth(i).bounding_box() for i in range(groups.count())]
    assert "".join(groups.all_inner_texts()) == text
    assert all(box and box["height"] < 40 for box in boxes), "a group is split across lines"
    lefts = sorted({round(box["x"]) for box in boxes if box})
    rows = sorted({round(box["y"]) for box in boxes if box})
    assert 3 <= len(lefts) <= 8, lefts  # columns of whole groups
    assert len(rows) * len(lefts) >= len(boxes)
    # The handle stays on one line.
    shown = page.locator("[data-sheet-handle]")
    assert shown.inner_text() == handle
    line = page.evaluate(
        "el => parseFloat(getComputedStyle(el).lineHeight)", shown.element_handle()
    )
    assert shown.bounding_box()["height"] < 1.5 * line
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1]
    # The attestation of a mandate: its check link wraps inside the page, not one letter a line.
    page.locator("#sheet-kept").check()
    page.locator("[data-continue]").click()
    page.wait_for_url("**/documents")
    menu_link(page, "Proxies").click()
    page.wait_for_url("**/proxy")
    form = page.locator("form[data-mandate]")
    form.wait_for(state="visible")
    form.locator("#mandate-handle").fill(world.proxy.account["handle"])
    form.get_by_role("button", name="Find").click()
    form.locator("[data-safety-code]").wait_for(state="visible")
    form.locator("#mandate-code-ok").check()
    form.locator("input[name=categories][value=housing]").check()
    form.locator("#mandate-purpose").fill("Rent file at the CPAS")
    form.get_by_role("button", name="Give the proxy").click()
    url = page.locator("[data-attestation] [data-attestation-url]")
    expect(url).to_be_visible()
    box = url.bounding_box()
    assert box and box["height"] < 200 and box["x"] + box["width"] <= 360, box
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1]


def test_latin_codes_and_arrows_read_the_right_way_in_arabic(
    browser: Browser, web_server: LiveServer, worlds: Callable[[str], World]
) -> None:
    """On a right-to-left page a handle is typed and shown left to right, kept whole, and a
    back link's arrow points back (to the right), not forward."""
    world = worlds("ar")
    phone = Phone(browser, web_server, "ar")
    page = phone.page
    page.goto("/login")
    phone.ready()
    handle_input = page.locator("#handle")
    assert handle_input.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert handle_input.evaluate("e => getComputedStyle(e).textAlign") == "right"
    login(page, world.owner.account["handle"])
    shown = page.locator("header [data-handle]")
    assert shown.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert shown.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    soft_goto(page, f"/documents/{world.doc_id}")
    phone.ready()
    arrow = page.locator("main .back-arrow").first
    # Mirrored: a horizontal flip, so "←" points right, where an Arabic reader came from.
    assert arrow.evaluate("e => new DOMMatrix(getComputedStyle(e).transform).a") == -1
    failures = phone.close()
    assert not failures, "\n".join(failures)
