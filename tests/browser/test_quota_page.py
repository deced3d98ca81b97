"""The upload page says, in the page's language, that the wallet is full: how much is used of
how much, and what to do. The server refuses with 507 quota_full (tests/test_quota.py)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PageProblems, build_web, menu_link, new_context, register
from tests.conftest import LiveServer, run_live_server

QUOTA = 20_000


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    build_web()
    extra = {"WALLET_WEB_KDF_FLOOR": "1,8192", "WALLET_ACCOUNT_QUOTA_BYTES": str(QUOTA)}
    with run_live_server(tmp_path_factory.mktemp("quota-web"), extra) as server:
        yield server


@pytest.fixture
def small_page(browser: Browser, small_server: LiveServer) -> Iterator[Page]:
    context = new_context(browser, small_server, locale="fr-BE")
    problems = PageProblems()
    tab = context.new_page()
    problems.watch(tab)
    yield tab
    context.close()
    unexpected = [e for e in problems.errors if "Failed to load resource" not in e]
    assert not unexpected, "\n".join(unexpected)


def test_the_upload_page_says_the_wallet_is_full(small_page: Page, tmp_path: Path) -> None:
    page = small_page
    register(page, f"quota-{secrets.token_hex(4)}")
    # A click, not a reload: the keys live in this page's memory.
    menu_link(page, "Ajouter un document").click()
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n" + secrets.token_bytes(QUOTA))
    page.locator("#file").set_input_files(str(scan))
    page.locator("#type").select_option("payslip")
    page.locator("[data-submit]").click()
    error = page.locator("form[data-upload] [data-error]")
    expect(error).to_be_visible()
    # French, with the figures in French units: nothing stored yet (0 o) of 20 ko, and what to do.
    expect(error).to_have_text(re.compile(r"Votre portefeuille est plein\s:\s0\so sur 20\sko"))
    expect(error).to_contain_text("Supprimez les documents")
