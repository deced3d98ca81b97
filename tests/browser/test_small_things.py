"""Small things a person meets on a phone (issue 12, item 9; issue 19's neutral tab), in
Chromium at 360 px: the kind of a new document is asked (and a request for it then finds it),
wallet-name errors sit next to the field, the home page does not offer to create a wallet to
someone already in, a PDF the browser cannot show gets "open / save", the link page speaks to
the recipient, and a neutral tab title and icon, kept on this device, apply on every page."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, register
from tests.browser.test_sharing_flows import go
from tests.conftest import TEST_PASSPHRASE, LiveServer
from tests.test_pdf_clean import make_pdf
from wallet.client import Vault
from wallet.client import requests as requestlib
from wallet.client.api import ApiClient
from wallet.client.contacts import PinStore
from wallet.client.links import create_link

PHONE = {"width": 360, "height": 740}


def test_the_kind_of_document_is_asked_and_a_request_finds_it(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    page.set_viewport_size(PHONE)
    handle = f"kind-{secrets.token_hex(4)}"
    register(page, handle)
    go(page, "/documents/new")
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    # No kind is chosen for the person: the placeholder is selected and cannot be sent.
    assert page.locator("#type").input_value() == ""
    expect(page.locator("#type")).to_have_attribute("required", "")
    scan = make_pdf(tmp_path / "card.pdf")
    page.locator("#file").set_input_files(str(scan))
    page.locator("[data-submit]").click()
    error = page.locator("[data-type-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("kind of document")
    expect(page.locator("#type")).to_be_focused()
    expect(page.locator("#type")).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/documents/new")
    page.locator("#type").select_option("id_card")
    expect(error).to_be_hidden()
    page.locator("[data-submit]").click()
    page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
    document_id = page.url.rsplit("/", 1)[1]

    # A worker asks for an identity card: the owner's suggestions name this document.
    api = ApiClient(web_server.url)
    worker, _ = Vault.create_account(api, f"worker-{secrets.token_hex(4)}", TEST_PASSPHRASE)
    asked = requestlib.create_request(
        worker, handle, types=["id_card"], purpose="Identity check", pins=PinStore(None)
    )
    owner = Vault.login(ApiClient(web_server.url), handle, TEST_PASSPHRASE)
    request = requestlib.get_request(owner, asked.id, PinStore(None))
    assert [d.id for d in requestlib.suggest_documents(owner, request)] == [document_id]


def test_wallet_name_errors_sit_next_to_the_field(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/register")
    page.locator("main[data-page=register][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill("josé maría")
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("#passphrase-again").fill(TEST_PASSPHRASE)
    page.locator("form[data-register] button[type=submit]").click()
    error = page.locator("#handle-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("without accents or spaces")
    expect(page.locator("form[data-register] > [data-error]")).to_be_hidden()
    expect(page.locator("#handle")).to_be_focused()
    # Next to the field: right under it, above the passphrase.
    field = page.locator("#handle").bounding_box()
    below = error.bounding_box()
    passphrase = page.locator("#passphrase").bounding_box()
    assert field and below and passphrase
    assert field["y"] < below["y"] < passphrase["y"]
    assert axe_violations(page) == []
    page.locator("#handle").fill("jose-maria")
    expect(error).to_be_hidden()


def test_home_page_offers_no_new_wallet_to_someone_already_in(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.locator("main[data-page=start][data-ready]").wait_for(state="attached")
    expect(page.get_by_role("link", name="Create my wallet")).to_be_visible()
    register(page, f"home-{secrets.token_hex(4)}")
    go(page, "/")
    page.locator("main[data-page=start][data-ready]").wait_for(state="attached")
    expect(page.locator("main").get_by_role("link", name="Create my wallet")).to_be_hidden()
    expect(page.locator("main").get_by_role("link", name="I already have a wallet")).to_be_hidden()
    expect(page.locator("main").get_by_role("link", name="Go to my documents")).to_be_visible()


def test_a_pdf_the_browser_cannot_show_gets_open_and_save(page: Page, tmp_path: Path) -> None:
    page.set_viewport_size(PHONE)
    # Chrome on Android has no PDF viewer: navigator.pdfViewerEnabled is false there.
    page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'pdfViewerEnabled', { get: () => false })"
    )
    register(page, f"pdf-{secrets.token_hex(4)}")
    go(page, "/documents/new")
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    page.locator("#file").set_input_files(str(make_pdf(tmp_path / "lease.pdf")))
    page.locator("#type").select_option("lease")
    page.locator("[data-submit]").click()
    page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
    page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
    page.locator("[data-show]").click()
    fallback = page.locator("[data-pdf-fallback]")
    expect(fallback).to_be_visible()
    expect(page.locator("[data-viewer] iframe")).to_have_count(0)
    expect(fallback.locator("[data-pdf-open]")).to_have_attribute("href", re.compile("^blob:"))
    with page.expect_download() as info:
        fallback.locator("[data-pdf-save]").click()
    assert info.value.suggested_filename == "lease.pdf"
    assert axe_violations(page) == []


def test_the_link_page_speaks_to_the_recipient(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    api = ApiClient(web_server.url)
    owner, _ = Vault.create_account(api, f"own-{secrets.token_hex(4)}", TEST_PASSPHRASE)
    paper = tmp_path / "lease.pdf"
    paper.write_bytes(b"%PDF-1.4 lease")
    document_id, _ = owner.upload(paper, "lease", "Lease")
    link = create_link(owner, [document_id], uses=1)
    page.set_viewport_size(PHONE)
    page.goto(link.url)
    page.locator("main[data-page=link][data-ready]").wait_for(state="attached")
    expect(page.locator("[data-for-recipient]")).to_contain_text("You received this link")
    main = page.locator("main").inner_text()
    assert "My documents" not in main and "your wallet" not in main.lower()


def test_a_neutral_tab_title_and_icon_on_every_page(page: Page) -> None:
    page.set_viewport_size(PHONE)
    register(page, f"look-{secrets.token_hex(4)}")
    go(page, "/account")
    page.locator("main[data-page=account][data-ready]").wait_for(state="attached")
    page.locator("#look").select_option("notes")
    page.locator("form[data-look] button[type=submit]").click()
    expect(page.locator("[data-look-status]")).to_contain_text("another title and icon")
    expect(page).to_have_title("Notes")
    icon = page.locator('link[rel~="icon"]')
    expect(icon).to_have_attribute("href", "/static/img/look-notes.svg")
    # Kept on this device only: a cookie the server never needs, not in the wallet.
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["wallet_look"]["value"] == "notes"
    # Every page, soft navigation or a fresh load, the login page included.
    go(page, "/documents")
    page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
    expect(page).to_have_title("Notes")
    for path in ("/login", "/", "/kiosk"):
        page.goto(path)
        expect(page).to_have_title("Notes")
        expect(page.locator('link[rel~="icon"]')).to_have_attribute(
            "href", "/static/img/look-notes.svg"
        )
    # In French, the neutral title is French too.
    page.context.add_cookies([{"name": "wallet_lang", "value": "fr", "url": page.url}])
    page.goto("/login")
    expect(page).to_have_title("Notes")
    page.context.add_cookies([{"name": "wallet_look", "value": "list", "url": page.url}])
    page.goto("/login")
    expect(page).to_have_title("Liste de courses")
