"""Every language the web app offers is complete, in both catalogues, and counts properly.

Data-driven over the languages present (web/i18n.py finds them from the files): a community
translator who adds web/translations/<code>/LC_MESSAGES/messages.po and
web/static/i18n/<code>.json gets these checks for the new language without touching code.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from wallet.protocol.catalogue import DOCUMENT_TYPES, PROCEDURE_CATEGORIES
from web.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    SCRIPT_CATALOGUES_DIR,
    TRANSLATIONS_DIR,
    negotiate,
    present_languages,
    text_direction,
    translations,
)
from web.pages import PROFILE_FORM, grouped_document_types

WEB = Path(__file__).resolve().parents[1] / "web"
TRANSLATED = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]
# "1 document(s)", "Dokument(e)", "document(en)", "Zugang/Zugänge": guesses at a plural.
PLURAL_GUESS = re.compile(r"\w\((?:s|e|en|n|es|x|er)\)|\(s\)|\w/\w+(?:en|e)\b(?=[ ,.])")
JSON_PLACEHOLDER = re.compile(r"\{(\w+)\}")
PO_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def script_catalogue(code: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCRIPT_CATALOGUES_DIR / f"{code}.json").read_text())
    return data


@cache
def page_catalogue(code: str) -> Catalog:
    with open(TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=code)


def template_messages() -> set[str | tuple[str, str]]:
    """Every msgid the templates use (a (singular, plural) pair for ngettext), and the labels
    the pages pass to `_()`: document types, their categories, profile fields."""
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB / "templates"),
        [("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    for _category, category_label, items in grouped_document_types():
        found.add(category_label)
        found.update(label for _name, label in items)
    found.update(label for _name, label, _kind in PROFILE_FORM)
    return found


def texts(entry: Any) -> list[str]:
    """The sentences of a script message: a string, or every form of a plural entry."""
    if isinstance(entry, str):
        return [entry]
    return [text for key, form in entry.items() if key != "count" for text in texts(form)]


FILE_ENDINGS = {"age", "json", "pdf", "png", "txt", "zip"}


def keys_used_by_scripts() -> set[str]:
    prefixes = {key.split(".")[0] for key in script_catalogue("en")}
    used = set()
    for source in (WEB / "src").rglob("*.js"):
        if "generated" in source.parts:
            continue
        for key in re.findall(r'"([a-z_]+\.[a-z_0-9.]+)"', source.read_text()):
            # File names such as "document.pdf" look like keys but are not.
            if key.split(".")[0] in prefixes and key.rsplit(".", 1)[1] not in FILE_ENDINGS:
                used.add(key)
    return used


def test_the_five_languages_are_offered_and_arabic_is_right_to_left() -> None:
    assert {"fr", "nl", "de", "en", "ar"} <= set(LANGUAGES)
    assert list(LANGUAGES) == present_languages()
    assert LANGUAGES["ar"] == "العربية" and LANGUAGES["fr"] == "Français"
    assert text_direction("ar") == "rtl"
    assert {text_direction(code) for code in ("fr", "nl", "de", "en")} == {"ltr"}
    assert negotiate(None, "ar-SY,ar;q=0.9,fr;q=0.5") == "ar"
    assert negotiate(None, "ps,ar-MA;q=0.8") == "ar"
    assert negotiate("ar", "fr-BE") == "ar"


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_script_catalogue_has_every_key_and_only_known_placeholders(code: str) -> None:
    english = script_catalogue("en")
    messages = script_catalogue(code)
    missing = [key for key in english if key not in messages]
    assert not missing, f"{code}: {len(missing)} keys missing, e.g. {missing[:5]}"
    extra = [key for key in messages if key not in english]
    assert not extra, f"{code}: keys English does not have: {extra[:5]}"
    for key, entry in messages.items():
        english_vars = {v for text in texts(english[key]) for v in JSON_PLACEHOLDER.findall(text)}
        for text in texts(entry):
            assert text.strip(), (code, key)
            assert set(JSON_PLACEHOLDER.findall(text)) <= english_vars, (code, key, text)


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_plural_entries_use_the_language_categories(code: str) -> None:
    categories = set(Locale.parse(code).plural_form.tags) | {"other", "zero"}
    english = script_catalogue("en")

    def check(key: str, entry: Any) -> None:
        if isinstance(entry, str):
            return
        assert isinstance(entry, dict) and "other" in entry, (code, key)
        counted = entry.get("count", "n")
        english_vars = {v for text in texts(english[key]) for v in JSON_PLACEHOLDER.findall(text)}
        assert counted in english_vars, (
            code,
            key,
            f"counts {counted!r}, a variable it is not given",
        )
        unknown = set(entry) - categories - {"count"}
        assert not unknown, (code, key, f"{unknown} are not plural categories of {code}")
        for category, form in entry.items():
            if category != "count":
                check(key, form)

    for key, entry in script_catalogue(code).items():
        check(key, entry)


def test_scripts_use_only_keys_that_exist() -> None:
    english = script_catalogue("en")
    used = keys_used_by_scripts()
    assert len(used) > 300
    assert used <= set(english), sorted(used - set(english))
    # Keys the scripts build at run time: one per document type and procedure category.
    for type_name in DOCUMENT_TYPES:
        assert f"types.{type_name}" in english, type_name
    for category in PROCEDURE_CATEGORIES:
        assert f"categories.{category}" in english, category


@pytest.mark.parametrize("code", TRANSLATED)
def test_page_catalogue_translates_every_template_string(code: str) -> None:
    catalogue = page_catalogue(code)
    nplurals = catalogue.num_plurals
    missing = []
    for message in template_messages():
        msgid = message if isinstance(message, str) else message[0]
        entry = catalogue.get(msgid)
        if entry is None or not entry.string:
            missing.append(msgid)
            continue
        if isinstance(message, tuple):
            assert isinstance(entry.string, tuple) and len(entry.string) == nplurals, (code, msgid)
            assert all(form.strip() for form in entry.string), (code, msgid)
            allowed = set(PO_PLACEHOLDER.findall(message[0] + message[1]))
        else:
            assert isinstance(entry.string, str), (code, msgid, "a plural entry for a singular")
            allowed = set(PO_PLACEHOLDER.findall(msgid))
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for form in forms:
            assert set(PO_PLACEHOLDER.findall(form)) <= allowed, (code, msgid, form)
    assert not missing, f"{code}: {len(missing)} not translated, e.g. {sorted(missing)[:5]}"


def test_arabic_counts_with_six_forms() -> None:
    catalogue = page_catalogue("ar")
    assert catalogue.num_plurals == 6
    forms = [
        translations("ar").ngettext(
            "If nobody touches the screen for %(num)s minute, the session ends by itself.",
            "If nobody touches the screen for %(num)s minutes, the session ends by itself.",
            n,
        )
        for n in (0, 1, 2, 3, 11, 100)
    ]
    # none, one ("دقيقة واحدة"), two ("دقيقتين"), 3 to 10 ("دقائق"), 11 and more ("دقيقة").
    assert "%(num)s" not in forms[1] and "واحدة" in forms[1]
    assert "%(num)s" not in forms[2] and "دقيقتين" in forms[2]
    assert "دقائق" in forms[3] and "دقائق" not in forms[4] and forms[4] == forms[5]


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_no_catalogue_guesses_at_a_plural(code: str) -> None:
    sentences = [text for entry in script_catalogue(code).values() for text in texts(entry)]
    if code != DEFAULT_LANGUAGE:
        for message in page_catalogue(code):
            if message.id:
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                sentences.extend(strings)
    guesses = [text for text in sentences if PLURAL_GUESS.search(text)]
    assert not guesses, f"{code}: {guesses[:3]}"


def test_french_typography() -> None:
    sentences = [text for entry in script_catalogue("fr").values() for text in texts(entry)]
    sentences += [
        form
        for message in page_catalogue("fr")
        if message.id
        for form in (message.string if isinstance(message.string, tuple) else (message.string,))
    ]
    for text in sentences:
        assert not re.search(r" [:;!?»]|« |“|”", text), text
        assert not re.search(r"\b(kB|MB|GB)\b", text), text


def test_german_says_brieftasche_only() -> None:
    sentences = [text for entry in script_catalogue("de").values() for text in texts(entry)]
    sentences += [
        form
        for message in page_catalogue("de")
        if message.id
        for form in (message.string if isinstance(message.string, tuple) else (message.string,))
    ]
    # "wallet proxy create" is a command of the CLI, not a word.
    wallet_words = [t for t in sentences if re.search(r"Wallet|wallet(?! [a-z])", t)]
    assert not wallet_words, wallet_words[:3]
    assert any("Brieftasche" in text for text in sentences)
