"""French, Dutch, German, English and Arabic: complete catalogues, a language switch that keeps
the wallet unlocked and changes the whole page, and every page in every language free of
another language's words."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from playwright.sync_api import Page, expect

from tests.browser.conftest import WEB, menu_link, register, screenshot
from tests.test_catalogues import PLURAL_GUESS
from web.i18n import LANGUAGES, translations
from web.pages import PROFILE_FORM, grouped_document_types

# The owner's pages (web helper 1). Other templates have their own checks.
OWNER_TEMPLATES = {
    "base.html",
    "start.html",
    "register.html",
    "recovery_sheet.html",
    "login.html",
    "documents.html",
    "upload.html",
    "document.html",
    "profile.html",
}

# Scripts of the share, link and kiosk pages (web helper 2) are checked by their own tests.
OTHER_SCRIPTS = {"kiosk.js", "kiosk_hooks.js", "link.js", "links.js"}


def owner_msgids() -> set[str]:
    found = set()
    method_map = [("**.html", "jinja2")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, _line, message, _comments, _ctx in extract_from_dir(
        str(WEB / "templates"), method_map, options_map=options
    ):
        if Path(filename).name in OWNER_TEMPLATES:
            found.add(message if isinstance(message, str) else message[0])
    for _category, category_label, items in grouped_document_types():
        found.add(category_label)
        found.update(label for _name, label in items)
    found.update(label for _name, label, _kind in PROFILE_FORM)
    return found


def test_every_page_string_is_translated() -> None:
    msgids = owner_msgids()
    assert len(msgids) > 100
    for language in (code for code in LANGUAGES if code != "en"):
        catalogue = translations(language)
        # Some words are the same in two languages ("Document", "Diploma"): check presence.
        missing = [m for m in msgids if not catalogue._catalog.get(m)]  # type: ignore[attr-defined]
        assert not missing, f"{language}: {missing[:5]}"


def test_script_catalogues_have_the_same_keys() -> None:
    catalogues = {
        lang: json.loads((WEB / "static" / "i18n" / f"{lang}.json").read_text())
        for lang in LANGUAGES
    }
    english = set(catalogues["en"])
    used = set()
    for source in (WEB / "src").rglob("*.js"):
        if source.name in OTHER_SCRIPTS:
            continue
        used.update(re.findall(r'\bt\(\s*"([a-z_]+\.[a-z_0-9]+)"', source.read_text()))
    assert used <= english, used - english
    for language, messages in catalogues.items():
        assert set(messages) >= english, (language, english - set(messages))
        # A plural entry is {"one": ..., "other": ...} (tests/test_catalogues.py checks them).
        assert all(
            isinstance(v, dict) or (isinstance(v, str) and v.strip()) for v in messages.values()
        )


def test_language_switch_keeps_the_wallet_open(page: Page) -> None:
    handle = f"lang-{secrets.token_hex(4)}"
    register(page, handle)
    expect(page.locator("h1")).to_have_text("My documents")
    page.locator("#language-select").select_option("fr")
    page.locator("form[data-language] button").click()
    expect(page.locator("h1")).to_have_text("Mes documents")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    # Still unlocked (no reload): the list loads, in French.
    expect(page.locator("[data-empty]")).to_contain_text("Votre portefeuille est vide")
    menu_link(page, "Ajouter un document").click()
    page.wait_for_url("**/documents/new")
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    page.locator("[data-submit]").click()
    expect(page.locator("[data-error]")).to_have_text(
        "Prenez d'abord une photo ou choisissez un fichier."
    )
    expect(page.locator("#type option[value=payslip]")).to_have_text(
        "Fiche de paie ou attestation de salaire"
    )
    # The choice is remembered by this browser; Dutch and German work the same way.
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Vos papiers, en sécurité, dans votre poche")
    for language, heading in (("nl", "Uw papieren"), ("de", "Ihre Papiere"), ("en", "Your papers")):
        page.locator("#language-select").select_option(language)
        page.locator("form[data-language] button").click()
        expect(page.locator("h1")).to_contain_text(heading)


def test_browser_language_is_the_default(browser, web_server) -> None:  # type: ignore[no-untyped-def]
    from tests.browser.conftest import new_context

    context = new_context(browser, web_server, locale="de-DE")
    try:
        tab = context.new_page()
        tab.goto("/login")
        expect(tab.locator("h1")).to_have_text("Ihre Brieftasche öffnen")
        tab.locator("main[data-page=login][data-ready]").wait_for(state="attached")
        tab.locator("form[data-login] button[type=submit]").click()
        expect(tab.locator("form[data-login] [data-error]")).to_have_text(
            "Tippen Sie den Namen Ihrer Brieftasche und Ihre Passphrase."
        )
    finally:
        context.close()


def test_a_language_switch_changes_the_whole_page(page: Page) -> None:
    register(page, f"whole-{secrets.token_hex(4)}")
    page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
    footer = page.locator("footer.site-footer")
    quick_exit = page.locator("[data-quick-exit-box] [data-quick-exit]")
    expect(footer).to_have_text("Only you hold the keys. The service cannot read your documents.")
    for code, footer_text, exit_text, heading, direction in (
        ("ar", "أنتم وحدكم تملكون المفاتيح", "خروج سريع", "مستنداتي", "rtl"),
        ("fr", "Vous seul avez les clés", "Sortie rapide", "Mes documents", "ltr"),
    ):
        page.locator("#language-select").select_option(code)
        page.locator("form[data-language] button").click()
        expect(page.locator("h1")).to_have_text(heading)
        expect(page.locator("html")).to_have_attribute("lang", code)
        expect(page.locator("html")).to_have_attribute("dir", direction)
        expect(footer).to_contain_text(footer_text)
        expect(quick_exit).to_have_text(exit_text)
        expect(page.locator(".skip-link")).to_have_text(
            translations(code).gettext("Skip to the main content")
        )
        expect(page.locator("nav.site-nav a[href='/documents']")).to_have_text(heading)
        # Still unlocked, and the emergency reset next to the quick exit is still offered.
        expect(page.locator("[data-quick-exit-box] a[href='/safety']")).to_be_visible()
        expect(page.locator("[data-empty]")).to_be_visible()


# --- Every page in every language: no words of another language ----------------------------

OWNER_PAGES = (
    ("/documents", "documents"),
    ("/documents/new", "upload"),
    ("/profile", "profile"),
    ("/share", "share"),
    ("/links", "links"),
    ("/grants", "grants"),
    ("/received", "received"),
    ("/journal", "journal"),
    ("/requests", "requests"),
    ("/notes", "notes"),
    ("/meeting", "meeting"),
    ("/inbox", "inbox"),
    ("/proxy", "proxy"),
    ("/account", "account"),
    ("/safety", "safety"),
    ("/emergency", "emergency"),
)
PUBLIC_PAGES = (
    ("/", "start"),
    ("/register", "register"),
    ("/login", "login"),
    ("/s/0123456789abcdef0123456789abcdef#k=not-a-key", "link"),
    ("/mandates/check/0123456789abcdef0123456789abcdef", "mandate_check"),
    ("/kiosk", "kiosk"),  # last: it makes this browser a public computer
)
PAGES_WITHOUT_SCRIPT = {"mandate_check"}
# Shorter pieces ("Documents", "PIN", "Journal") are the same word in several languages.
MIN_FOREIGN_LENGTH = 16


def _sentences(code: str) -> set[str]:
    """Every sentence of a language's two catalogues, cut at its placeholders."""
    found: list[str] = []

    def add(entry: object) -> None:
        if isinstance(entry, str):
            found.extend(re.split(r"\{\w+\}|%\(\w+\)s|<[^>]+>", entry))
        elif isinstance(entry, dict):
            for key, form in entry.items():
                if key != "count":
                    add(form)

    for entry in json.loads((WEB / "static" / "i18n" / f"{code}.json").read_text()).values():
        add(entry)
    if code != "en":
        catalogue = translations(code)._catalog  # type: ignore[attr-defined]
        for msgid, text in catalogue.items():
            if msgid:
                add(text)
    if code == "en":
        for _f, _l, message, _c, _x in extract_from_dir(
            str(WEB / "templates"),
            [("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        ):
            for text in message if isinstance(message, tuple) else (message,):
                add(text)
    return {" ".join(piece.split()) for piece in found}


def foreign_sentences(code: str) -> dict[str, str]:
    """Pieces of other languages' catalogues that the language `code` never says."""
    own = _sentences(code)
    foreign: dict[str, str] = {}
    for other in LANGUAGES:
        if other == code:
            continue
        for piece in _sentences(other) - own:
            if (
                len(piece) >= MIN_FOREIGN_LENGTH
                and " " in piece
                and not any(piece in o for o in own)
            ):
                foreign.setdefault(piece, other)
    return foreign


def page_words(page: Page) -> str:
    """The words of the page, hidden messages and labels included."""
    text = page.evaluate(
        """() => {
            const parts = [document.title, document.body.innerText];
            for (const node of document.body.querySelectorAll("*")) {
              if (node.closest("noscript, script, style")) continue;
              if (node.childElementCount === 0 && node.textContent) parts.push(node.textContent);
              for (const name of ["aria-label", "title", "placeholder", "alt"]) {
                const value = node.getAttribute(name);
                if (value) parts.push(value);
              }
            }
            return parts.join("\\n");
        }"""
    )
    return " ".join(text.split())


def check_page(page: Page, code: str, name: str, foreign: dict[str, str]) -> None:
    # A page without a script of its own (the mandate check) is ready when it is there.
    ready = "" if name in PAGES_WITHOUT_SCRIPT else "[data-ready]"
    page.locator(f"main[data-page={name}]{ready}").wait_for(state="attached")
    expect(page.locator("html")).to_have_attribute("lang", code)
    words = page_words(page)
    found = sorted({(foreign[p], p) for p in foreign if p in words})
    assert not found, f"{code} page {name} says: {found[:5]}"
    guesses = PLURAL_GUESS.findall(words)
    assert not guesses, f"{code} page {name} guesses at a plural: {guesses[:5]}"
    if code in ("ar", "fr"):
        screenshot(page, f"{code}-{name}")


def soft_go(page: Page, href: str, name: str) -> None:
    """Moves to another page inside the app (the keys stay in memory), as a link does."""
    page.evaluate(
        """(href) => {
            const a = document.createElement("a");
            a.href = href; a.textContent = "probe";
            document.querySelector("main").append(a);
            a.click();
        }""",
        href,
    )
    page.locator(f"main[data-page={name}][data-ready]").wait_for(state="attached")


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_every_page_speaks_only_its_language(
    browser, web_server, tmp_path: Path, code: str
) -> None:  # type: ignore[no-untyped-def]
    from tests.browser.conftest import new_context

    foreign = foreign_sentences(code)
    assert len(foreign) > 500
    context = new_context(browser, web_server)
    context.add_cookies([{"name": "wallet_lang", "value": code, "url": web_server.url}])
    try:
        tab = context.new_page()
        register(tab, f"{code}-pages-{secrets.token_hex(3)}")
        check_page(tab, code, "documents", foreign)
        scan = tmp_path / "lease.pdf"
        scan.write_bytes(b"%PDF-1.4\n%%EOF\n")
        soft_go(tab, "/documents/new", "upload")
        tab.locator("#file").set_input_files(str(scan))
        tab.select_option("#type", "lease")
        tab.locator("[data-submit]").click()
        tab.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
        check_page(tab, code, "document", foreign)
        for href, name in OWNER_PAGES:
            soft_go(tab, href, name)
            check_page(tab, code, name, foreign)
        tab.close()
        public = context.new_page()
        public.context.clear_cookies()
        context.add_cookies([{"name": "wallet_lang", "value": code, "url": web_server.url}])
        for href, name in PUBLIC_PAGES:
            public.goto(href)
            check_page(public, code, name, foreign)
    finally:
        context.close()
