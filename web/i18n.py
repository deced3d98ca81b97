"""Page translations: gettext catalogues (web/translations/<lang>/LC_MESSAGES/messages.po),
compiled in memory with Babel when the app starts. Scripts use web/static/i18n/<lang>.json.

English is the source language: a missing translation shows the English words, never a key.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: dict[str, str] = {
    "fr": "Français",
    "nl": "Nederlands",
    "de": "Deutsch",
    "en": "English",
}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "wallet_lang"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


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
