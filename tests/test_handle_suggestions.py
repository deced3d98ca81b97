"""Suggested handles are made in the person's language, of words that are valid handles."""

from __future__ import annotations

import re

import pytest

from tests.conftest import WalletApp
from wallet.accounts import handles

HANDLE = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")


def test_every_word_is_plain_ascii_and_every_language_has_words() -> None:
    assert handles.all_parts_valid()
    assert {"en", "fr", "nl", "de", "ar"} <= set(handles.WORDS)
    for first, second in handles.WORDS.values():
        assert len(set(first)) == len(first) >= 10 and len(set(second)) == len(second) >= 10


@pytest.mark.parametrize("language", sorted(handles.WORDS))
def test_the_server_suggests_in_the_language_asked(wallet_app: WalletApp, language: str) -> None:
    first, second = handles.WORDS[language]
    for _ in range(10):
        answer = wallet_app.client.get("/api/v1/accounts/params", params={"lang": language})
        handle = answer.json()["suggested_handle"]
        assert HANDLE.match(handle) and 3 <= len(handle) <= 40, handle
        a, b, number = handle.split("-")
        assert a in first and b in second and 10 <= int(number) <= 99


def test_the_page_language_then_the_browser_language_then_english(wallet_app: WalletApp) -> None:
    def words(**kwargs: object) -> str:
        handle = wallet_app.client.get("/api/v1/accounts/params", **kwargs).json()  # type: ignore[arg-type]
        return str(handle["suggested_handle"]).split("-")[0]

    wallet_app.client.cookies.set("wallet_lang", "de")
    assert words() in handles.WORDS["de"][0]
    wallet_app.client.cookies.clear()
    assert words(headers={"Accept-Language": "nl-BE,nl;q=0.9"}) in handles.WORDS["nl"][0]
    assert words(headers={"Accept-Language": "tr"}) in handles.WORDS["en"][0]
    assert words(params={"lang": "xx"}) in handles.WORDS["en"][0]
    assert handles.language_of(None, None, "fr_BE") == "fr"  # a terminal's LANG, for the CLI
