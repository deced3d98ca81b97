"""Every kind of journal entry the server can write has a plain sentence in every language of
the web app and in the CLI, and neither says a technical id."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from wallet.client import journal as clientjournal
from wallet.journal import events
from wallet.journal.devices import device_of

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted((ROOT / "web" / "static" / "i18n").glob("*.json"))
LANGUAGES = [path.stem for path in CATALOGUES]
# Placeholders each sentence may use (web/src/journal.js `vars`).
PLACEHOLDERS = {
    "document", "link", "for", "person", "person_mid", "proxy", "proxy_mid", "who", "by",
    "requester", "how", "device", "event", "reason",
}  # fmt: skip


def catalogue(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((ROOT / "web/static/i18n" / f"{language}.json").read_text())
    return data


def test_the_five_languages_are_there() -> None:
    assert {"en", "fr", "nl", "de", "ar"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_event_kind_has_a_sentence(language: str) -> None:
    messages = catalogue(language)
    missing = [k for k in events.EVENTS if not messages.get(f"journal.event.{k}", "").strip()]
    assert not missing, f"{language}: no sentence for {missing}"
    for key in (
        "journal.quoted",
        "journal.a_document",
        "journal.a_link",
        "journal.the_link",
        "journal.for_purpose",
        "journal.language_saved",
        "journal.profile_updated",
        *(f"journal.device.{d}" for d in (*clientjournal.DEVICES,)),
        "summary.title",
        "summary.requests_one",
        "summary.requests_many",
    ):
        assert messages.get(key, "").strip(), f"{language}: {key}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_sentences_use_only_known_placeholders_and_no_ids(language: str) -> None:
    english = catalogue("en")
    for key, text in catalogue(language).items():
        if not key.startswith("journal.event."):
            continue
        used = set(re.findall(r"\{(\w+)\}", text))
        assert used <= PLACEHOLDERS, (language, key, used)
        # The same facts in every language: no placeholder the English does not fill.
        assert used <= set(re.findall(r"\{(\w+)\}", english.get(key, ""))), (language, key)
        assert "{id}" not in text and "{grant}" not in text and "{mandate}" not in text


def test_the_cli_has_a_sentence_for_every_kind_and_says_viewed_not_downloaded() -> None:
    assert set(events.EVENTS) <= set(clientjournal.SENTENCES)
    english = catalogue("en")
    for kind, sentence in clientjournal.SENTENCES.items():
        used = set(re.findall(r"\{(\w+)\}", sentence.replace("{for_}", "{for}")))
        assert used <= PLACEHOLDERS, kind
        if kind != "state_refused":  # the CLI's own words for the device that refused
            assert sentence.replace("{for_}", "{for}") == english[f"journal.event.{kind}"], kind
    for kind in ("grant_download", "link_download", "mandate_download"):
        assert "download" not in english[f"journal.event.{kind}"].lower()


def test_both_clients_highlight_and_fold_the_same_kinds_as_the_server() -> None:
    assert set(events.ALERTS) == clientjournal.ALERTS
    assert set(events.ROUTINE) == clientjournal.ROUTINE
    script = (ROOT / "web/src/journal.js").read_text()

    def js_set(name: str) -> set[str]:
        found = re.search(rf"export const {name} = new Set\(\[(.*?)\]\);", script, re.S)
        assert found, name
        return set(re.findall(r'"(\w+)"', found.group(1)))

    assert js_set("ALERTS") == set(events.ALERTS)
    assert js_set("ROUTINE") == set(events.ROUTINE)
    assert js_set("PROXY_EVENTS") == set(events.PROXY_EVENTS)


def test_every_event_the_code_writes_is_defined() -> None:
    """`append` refuses an unknown kind at run time; this catches it before."""
    written: set[str] = set()
    for folder in ("wallet", "sharing"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            written |= set(re.findall(r'append\(\s*db,\s*[\w.]+,\s*"(\w+)"', text))
            written |= set(re.findall(r'\bevent="(\w+)"', text))
            written |= set(re.findall(r'_proxy_journal\([^)]*?"(mandate_\w+)"', text, re.S))
            written |= set(re.findall(r'_confirm_failure\([^)]*?"(\w+)"\)', text))
    assert written, "the scan found nothing: the pattern is stale"
    assert written <= set(events.EVENTS), written - set(events.EVENTS)


def test_append_refuses_an_unknown_kind(wallet_app: object) -> None:
    from sqlmodel import Session

    from wallet.db import make_engine
    from wallet.journal import service

    url = wallet_app.database.url  # type: ignore[attr-defined]
    engine = make_engine(url)
    try:
        with Session(engine) as db, pytest.raises(events.UnknownEvent):
            service.append(db, "nobody", "document_downloaded")
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("agent", "kiosk", "device"),
    [
        ("Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 Mobile Safari", None, "phone"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", None, "phone"),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", None, "tablet"),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0", None, "computer"),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0", "1", "kiosk"),
        ("python-httpx/0.28.1", None, "app"),
        (None, None, None),
    ],
)  # fmt: skip
def test_a_login_names_its_device_in_one_word(
    agent: str | None, kiosk: str | None, device: str | None
) -> None:
    assert device_of(agent, kiosk) == device
