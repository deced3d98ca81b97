"""French, Dutch, German and English: complete catalogues, and a language switch that keeps
the wallet unlocked."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

from babel.messages.extract import extract_from_dir
from playwright.sync_api import Page, expect

from tests.browser.conftest import WEB, register
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
    for language in ("fr", "nl", "de"):
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
        assert all(isinstance(v, str) and v.strip() for v in messages.values())


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
    page.get_by_role("link", name="Ajouter un document").first.click()
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
