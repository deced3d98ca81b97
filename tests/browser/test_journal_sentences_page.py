"""The journal and the after-login summary in Chromium at 360x740, in French: true plain
sentences (you and your device, the proxy by name, "consulté" not "téléchargé", no ids), one
row per profile save, routine checks folded; and a one-time mandate that ends on its first
view, said on the proxy's page."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import axe_violations, login, new_context, screenshot
from tests.browser.test_inbox import new_worker
from tests.browser.test_kiosk import owner_with_documents
from tests.browser.test_sharing_flows import go
from tests.conftest import LiveServer
from wallet.accounts import handles
from wallet.client import journal as journallib
from wallet.client import requests as requestlib
from wallet.client.contacts import PinStore
from wallet.client.mandates import ProxyVault, create_mandate, mandates_given

HEX_RUN = re.compile(r"\b[0-9a-f]{8,}\b")


def french_page(browser: Browser, server: LiveServer) -> Page:
    context = new_context(browser, server, locale="fr-BE")
    context.add_cookies([{"name": "wallet_lang", "value": "fr", "url": server.url}])
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    return tab


def plain(text: str) -> str:
    """French quotes hold non-breaking spaces: compare with plain ones."""
    return text.replace("\u00a0", " ")


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width


def test_summary_after_login_and_journal_sentences_in_french(
    browser: Browser, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, ids = owner_with_documents(web_server, tmp_path, [f"Bail-{tag}", f"Fiche-{tag}"])
    owner_handle = owner.account["handle"]
    proxy = new_worker(web_server)
    proxy_handle = proxy.account["handle"]
    create_mandate(
        owner,
        proxy_handle,
        categories=[],
        document_ids=[ids[0]],
        actions=["view"],
        duration="1m",
        purpose=f"Dossier logement {tag}",
        pins=PinStore(None),
    )
    acting = ProxyVault.open(proxy, owner_handle, PinStore(None))
    acting.download(ids[0], tmp_path / "copy.txt")
    worker = new_worker(web_server)
    requestlib.create_request(
        worker,
        owner_handle,
        types=["payslip"],
        purpose=f"Revenu d'intégration {tag}",
        pins=PinStore(None),
    )
    # A second login of the owner, so the proxy's actions fall after the previous login.
    page = french_page(browser, web_server)
    login(page, owner_handle)

    # The documents page: what the proxy did, and the request waiting, compact at 360 px.
    box = page.locator("[data-summary]")
    expect(box).to_be_visible()
    expect(box).to_contain_text("Pendant votre absence")
    expect(box).to_contain_text(f"{proxy_handle} a consulté « Bail-{tag} » pour vous.")
    expect(box).to_contain_text(f"{proxy_handle} a regardé la liste de vos documents")
    # The waiting request is named once, in the reminders above (reminders.js), with its link.
    reminders = page.locator("[data-attention]")
    expect(reminders).to_contain_text(f"vous demande des documents (Revenu d'intégration {tag})")
    expect(reminders.locator("[data-kind=request_waiting] a")).to_have_attribute(
        "href", "/requests"
    )
    expect(box).not_to_contain_text("Une demande de documents attend votre réponse.")
    assert not HEX_RUN.search(box.inner_text())
    height = box.evaluate("e => e.getBoundingClientRect().height")
    assert height < 360, height  # compact: the list of papers stays in reach
    no_sideways_scroll(page)
    assert axe_violations(page) == []
    screenshot(page, "documents-summary-fr")

    # One save of the profile with three fields, then the language form on the same language.
    go(page, "/profile")
    page.locator("main[data-page=profile][data-ready]").wait_for(state="attached")
    page.locator("#field-first_name").fill("Marie")
    page.locator("#field-last_name").fill("Dupont")
    page.locator("#field-employer").fill("CPAS")
    page.locator("form[data-profile] button[type=submit]").click()
    expect(page.locator("[data-saved]")).to_be_visible()
    page.locator("#language-select").select_option("fr")
    before = page.locator("main[data-page=profile]").element_handle()
    page.locator("form[data-language] button[type=submit]").click()
    # The language form swaps the page in: wait for the new one, or the next navigation
    # races it and the swap lands last.
    page.wait_for_function("main => !main.isConnected", arg=before)
    page.locator("main[data-page=profile][data-ready]").wait_for(state="attached")

    go(page, "/journal")
    page.locator("main[data-page=journal][data-ready]").wait_for(state="attached")
    entries = page.locator("[data-entries]")
    text = entries.inner_text()
    assert "Événement" not in text and "téléchargé" not in text
    assert not HEX_RUN.search(text), HEX_RUN.findall(text)
    expect(entries).to_contain_text("Vous avez ouvert une session sur cet appareil.")
    expect(entries).to_contain_text(f"{proxy_handle} a consulté « Bail-{tag} » pour vous.")
    expect(entries).to_contain_text(
        f"Vous avez permis à {proxy_handle} d'agir en votre nom pour « Dossier logement {tag} »."
    )
    rows = [plain(r).strip() for r in entries.locator("li span").all_inner_texts()]
    assert rows.count("Vous avez modifié des informations sur vous.") == 1, rows
    # The first login on the web saved the page's language once; the form's same choice, never.
    assert rows.count("Votre choix de langue a été enregistré.") == 1, rows
    raw = journallib.fetch_entries(owner)
    assert sum(e["event"] == "profile_changed" for e in raw) == 4  # three fields, one language
    # Routine checks are folded away until asked for.
    listed = entries.locator("li[data-event=mandate_listed]")
    expect(listed).to_have_count(0)
    page.locator("[data-show-routine]").check()
    expect(listed).to_have_count(1)
    no_sideways_scroll(page)
    assert axe_violations(page) == []
    screenshot(page, "journal-fr")

    # The other languages: every row a sentence of that language, no key, no id.
    for language, login_words in (
        ("nl", "U hebt zich aangemeld op dit toestel."),
        ("de", "Sie haben sich auf diesem Gerät angemeldet."),
        ("en", "You logged in on this device."),
    ):
        page.locator("#language-select").select_option(language)
        page.locator("form[data-language] button[type=submit]").click()
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.locator("main[data-page=journal][data-ready]").wait_for(state="attached")
        expect(entries).to_contain_text(login_words)
        text = entries.inner_text()
        assert "journal." not in text and not HEX_RUN.search(text), (language, text)
        no_sideways_scroll(page)
    page.context.close()


def test_a_one_time_mandate_ends_on_its_first_view_and_the_page_says_so(
    browser: Browser, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, ids = owner_with_documents(web_server, tmp_path, [f"Bail-{tag}", f"Fiche-{tag}"])
    proxy = new_worker(web_server)
    created = create_mandate(
        owner,
        proxy.account["handle"],
        categories=[],
        document_ids=ids,
        actions=["view"],
        duration="once",
        purpose="Une visite",
        pins=PinStore(None),
    )
    page = french_page(browser, web_server)
    login(page, proxy.account["handle"])
    go(page, f"/proxy/for/{created.id}")
    page.locator("main[data-page=proxy_for][data-ready]").wait_for(state="attached")
    page.get_by_role("button", name=f"Bail-{tag}").click()
    frame = page.frame_locator("[data-viewer] iframe")
    expect(frame.locator("body")).to_contain_text(f"Bail-{tag} content")
    done = page.locator("[data-once-used]")
    expect(done).to_contain_text("C'était une permission unique")
    expect(page.get_by_role("button", name=f"Fiche-{tag}")).to_be_disabled()
    # The server ended it, whatever this page does next.
    [given] = mandates_given(owner)
    assert given["state"] == "used"
    no_sideways_scroll(page)
    screenshot(page, "proxy-once-used-fr")
    page.context.close()


def test_the_suggested_handle_is_in_the_page_language(
    browser: Browser, web_server: LiveServer
) -> None:
    page = french_page(browser, web_server)
    page.goto("/register")
    page.locator("main[data-page=register][data-ready]").wait_for(state="attached")
    handle = page.locator("#handle").input_value()
    first, second, _number = handle.split("-")
    assert first in handles.WORDS["fr"][0] and second in handles.WORDS["fr"][1], handle
    page.context.close()
