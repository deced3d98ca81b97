"""The owner's pages in Chromium: register, recovery sheet, upload, view, versions, delete,
profile, login, language switch; the Python client reads what the browser wrote."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import login, menu_link, register, screenshot
from tests.conftest import TEST_PASSPHRASE
from wallet.client import ApiClient, Vault
from wallet.crypto.recovery import parse_recovery_key

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5d6b5a40000000049454e44ae426082"
)


def two_pixels() -> bytes:
    """A 2x1 PNG with two known colours."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"\x00" + bytes([200, 16, 32, 10, 120, 240])
    header = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def handle() -> str:
    return f"web-{secrets.token_hex(4)}"


def upload(page: Page, path: Path, doc_type: str = "payslip", expiry: str = "") -> str:
    menu_link(page, re.compile("Add a document")).click()
    page.wait_for_url("**/documents/new")
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    page.locator("#file").set_input_files(str(path))
    page.locator("#type").select_option(doc_type)
    if expiry:
        page.locator("#expiry").fill(expiry)
    page.locator("[data-submit]").click()
    page.wait_for_url(re.compile(r".*/documents/[0-9a-f]{32}$"))
    return page.url.rsplit("/", 1)[1]


def test_register_upload_view_versions_delete(page: Page, tmp_path: Path, web_server) -> None:  # type: ignore[no-untyped-def]
    name = handle()
    recovery = register(page, name)
    # The recovery key shown once is a real one, and the sheet also has a QR code.
    assert parse_recovery_key(recovery)
    page.goto("/recovery-sheet")
    expect(page.locator("[data-gone]")).to_be_visible()  # a reload loses the keys and the sheet
    login(page, name)
    expect(page.locator("[data-empty]")).to_be_visible()

    scan = tmp_path / "payslip-march.png"
    scan.write_bytes(PNG)
    document_id = upload(page, scan, "payslip", "2099-12-31")
    expect(page.locator("[data-doc-title]")).to_have_text("payslip-march")
    expect(page.locator('[data-fact="type"]')).to_have_text("Payslip or salary certificate")

    # View: decrypted in the browser into a blob: URL, shown in an <img>.
    page.locator("[data-show]").click()
    image = page.locator("[data-viewer] img")
    expect(image).to_have_attribute("src", re.compile("^blob:"))
    assert page.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == 1

    # A newer version, then both versions are listed.
    page.locator("[data-new-version]").click()
    page.wait_for_url("**/documents/new?replace=*")
    expect(page.locator("#title")).to_have_value("payslip-march")
    second = tmp_path / "payslip-march-v2.pdf"
    second.write_bytes(b"%PDF-1.4\n% second version\n")
    page.locator("#file").set_input_files(str(second))
    page.locator("[data-submit]").click()
    page.wait_for_url(f"**/documents/{document_id}")
    expect(page.locator("[data-versions] li")).to_have_count(2)

    # The Python client reads what the browser wrote: signatures, wraps, metadata, bytes.
    api = ApiClient(web_server.url)
    vault = Vault.login(api, name, TEST_PASSPHRASE)
    [doc] = vault.list_documents()
    assert (doc.id, doc.version, doc.type, doc.title) == (
        document_id,
        2,
        "payslip",
        "payslip-march",
    )
    target = tmp_path / "out.bin"
    vault.download(document_id, target, version=1)
    # A photo is re-encoded without its hidden details (web/src/photo_clean.js): the same
    # picture (one fully transparent pixel; a canvas keeps no colour under alpha 0).
    with Image.open(target) as picture:
        assert (picture.format, picture.size) == ("PNG", (1, 1))
        assert picture.convert("RGBA").getpixel((0, 0))[3] == 0  # type: ignore[index]
    vault.download(document_id, target)
    assert target.read_bytes() == second.read_bytes()

    # Delete, after the confirmation step.
    page.locator("[data-delete-box] summary").click()
    page.locator("[data-delete]").click()
    page.wait_for_url("**/documents")
    expect(page.locator("[data-empty]")).to_be_visible()
    assert vault.list_documents() == []


def test_document_from_python_is_listed_with_expiry_warning(
    page: Page, tmp_path: Path, web_server
) -> None:  # type: ignore[no-untyped-def]
    name = handle()
    register(page, name)
    vault = Vault.login(ApiClient(web_server.url), name, TEST_PASSPHRASE)
    source = tmp_path / "carte.png"
    source.write_bytes(two_pixels())
    vault.upload(source, "id_card", "Carte d'identité", expiry_date="2020-01-31")
    page.goto("/login")
    login(page, name)
    item = page.locator(".doc-list li").first
    expect(item.locator(".title")).to_have_text("Carte d'identité")
    expect(item.locator(".badge.expired")).to_contain_text("Expired")
    expect(item.locator("img")).to_have_attribute("src", "/static/img/cat-identity.svg")
    item.locator("a").click()
    page.locator("[data-show]").click()
    image = page.locator("[data-viewer] img")
    expect(image).to_have_attribute("src", re.compile("^blob:"))
    # The browser decrypted what the Python client encrypted: the exact pixels.
    pixels = page.evaluate(
        """(img) => { const c = document.createElement("canvas"); c.width = 2; c.height = 1;
                     const g = c.getContext("2d"); g.drawImage(img, 0, 0);
                     return Array.from(g.getImageData(0, 0, 2, 1).data); }""",
        image.element_handle(),
    )
    assert pixels == [200, 16, 32, 255, 10, 120, 240, 255]
    # Leaving the page revokes the blob: URL.
    url = image.get_attribute("src")
    page.get_by_role("link", name="Back to my documents").click()
    page.wait_for_url("**/documents")
    still_loads = page.evaluate(
        """(u) => new Promise((ok) => { const i = new Image(); i.onload = () => ok(true);
                                      i.onerror = () => ok(false); i.src = u; })""",
        url,
    )
    assert still_loads is False


@pytest.mark.parametrize(
    "viewport", [{"width": 360, "height": 740}, {"width": 1280, "height": 900}]
)
def test_screenshots(browser, web_server, viewport, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.browser.conftest import new_context

    context = new_context(browser, web_server, viewport)
    page = context.new_page()
    try:
        page.goto("/")
        screenshot(page, "start")
        page.goto("/register")
        page.locator("#passphrase").fill("green bicycle under the rain")
        screenshot(page, "register")
        name = handle()
        register(page, name)
        scan = tmp_path / "bill.png"
        scan.write_bytes(PNG)
        upload(page, scan, "energy_bill", "2026-12-01")
        page.locator("[data-show]").click()
        expect(page.locator("[data-viewer] img")).to_be_visible()
        screenshot(page, "document")
        menu_link(page, "My documents").click()
        page.wait_for_url("**/documents")
        expect(page.locator(".doc-list li")).to_have_count(1)
        screenshot(page, "documents")
        menu_link(page, "Add a document").click()
        page.wait_for_url("**/documents/new")
        screenshot(page, "upload")
        page.goto("/login")
        screenshot(page, "login")
    finally:
        context.close()


def test_a_form_sent_before_the_scripts_run_carries_no_secret(browser, web_server) -> None:  # type: ignore[no-untyped-def]
    # Slow phone, scripts not there yet (here: turned off): pressing the button must not put a
    # passphrase or a document's name into an address the server and the history see.
    from tests.browser.conftest import new_context

    context = new_context(browser, web_server, java_script_enabled=False)
    try:
        page = context.new_page()
        sent: list[str] = []
        page.on("request", lambda request: sent.append(request.url + (request.post_data or "")))
        page.goto("/login")
        expect(page.locator("noscript")).to_have_count(1)
        page.locator("#handle").fill("someone")
        page.locator("#passphrase").fill("secret words here")
        page.locator("form[data-login] button[type=submit]").click()
        page.goto("/register")
        page.locator("#passphrase").fill("secret words here")
        page.locator("form[data-register] button[type=submit]").click()
        page.goto("/documents/new")
        page.locator("#title").fill("Medical certificate of Ana")
        page.locator("[data-submit]").click()
        assert not [u for u in sent if "secret" in u or "Ana" in u], sent
    finally:
        context.close()
