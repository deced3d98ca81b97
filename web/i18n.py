"""Page translations: gettext catalogues (web/translations/<lang>/LC_MESSAGES/messages.po),
compiled in memory with Babel when the app starts. Scripts use web/static/i18n/<lang>.json.

English is the source language: a missing translation shows the English words, never a key.

The languages offered are the ones present: English, plus every language that has both a
`.po` file and a JSON catalogue. A community translator adds a language with those two files,
no code (web/README.md, "Adding a language"). Its name in the language menu, its writing
direction and its plural rules come from Babel's CLDR data.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "wallet_lang"
WEB_DIR = Path(__file__).parent
TRANSLATIONS_DIR = WEB_DIR / "translations"
SCRIPT_CATALOGUES_DIR = WEB_DIR / "static" / "i18n"
# The order of the language menu for the languages the service started with; any language a
# translator adds comes after them, by code.
MENU_ORDER = ("fr", "nl", "de", "en", "ar")


def present_languages() -> list[str]:
    """English and every language with both catalogues, in menu order."""
    found = {DEFAULT_LANGUAGE}
    for po_path in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"):
        code = po_path.parent.parent.name
        if (SCRIPT_CATALOGUES_DIR / f"{code}.json").exists():
            found.add(code)
    known = [code for code in MENU_ORDER if code in found]
    return known + sorted(found - set(MENU_ORDER))


def language_name(code: str) -> str:
    """The language's name in itself ("Français", "العربية")."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def text_direction(code: str) -> str:
    """ "rtl" for languages written right to left (Arabic), else "ltr"."""
    return "rtl" if Locale.parse(code).character_order == "right-to-left" else "ltr"


LANGUAGES: dict[str, str] = {code: language_name(code) for code in present_languages()}


@cache
def translations(language: str) -> gettext.NullTranslations:
    po_path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po_path.exists():
        return gettext.NullTranslations()
    with open(po_path, "rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def negotiate(cookie: str | None, accept_language: str) -> str:
    """The language the person chose (cookie), else the browser's first known one, else English."""
    if cookie in LANGUAGES:
        return cookie
    ranked = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower().split("-")[0]))
    for _q, _p, language in sorted(ranked):
        if language in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE
