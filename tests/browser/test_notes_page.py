"""The /notes page in Chromium: the owner writes a contact note (sealed to the owner and the
author, signed, like notelib.add_note) that the Python client reads back; a worker's note
(Python) shows in the owner's page, checked against the worker's signature; the export built in
the browser holds both notes and the journal; a tampered note is refused."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import DESKTOP, axe_violations, login, menu_link, screenshot
from tests.browser.test_requests_page import new_account, owner_with, tab_to
from tests.conftest import LiveServer
from wallet.client import notes as notelib
from wallet.client.contacts import PinStore
from wallet.client.grants import create_grant
from wallet.crypto.encoding import b64d, b64e


def open_notes_page(page: Page, handle: str) -> None:
    login(page, handle)
    menu_link(page, "Notes").click()
    page.wait_for_url("**/notes")
    page.locator("main[data-page=notes][data-ready]").wait_for(state="attached")


def test_owner_and_worker_notes_and_the_export(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, ids = owner_with(web_server, tmp_path, [("payslip", f"Payslip {tag}")])
    worker = new_account(web_server, "w")
    grant = create_grant(
        owner, worker.account["handle"], purpose="Follow-up", document_ids=list(ids.values()),
        pins=PinStore(None),
    )  # fmt: skip
    notelib.add_note(
        worker, f"Worker saw the payslip {tag}", grant_id=grant.id, persons=["Anna", "Owner"],
        actions="File complete", pins=PinStore(None),
    )  # fmt: skip
    handle = owner.account["handle"]

    open_notes_page(page, handle)
    about = page.locator("[data-about]")
    expect(about).to_contain_text(f"Said: Worker saw the payslip {tag}")
    expect(about).to_contain_text(f"written by {worker.account['handle']}")
    expect(about).to_contain_text("Present: Anna, Owner")
    expect(about).to_contain_text("Decided: File complete")

    # The owner writes a note by keyboard alone.
    tab_to(page, "#note-date")
    page.locator("#note-date").fill("2026-03-15")
    tab_to(page, "#note-persons")
    page.keyboard.type("Me, Mr Dupont")
    tab_to(page, "#note-said")
    page.keyboard.type(f"They said my file was late {tag}")
    tab_to(page, "#note-decided")
    page.keyboard.type("New meeting on 20 March")
    tab_to(page, "form[data-note] button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("main [data-done]")).to_contain_text("The note is saved")
    expect(about).to_contain_text(f"Said: They said my file was late {tag}")
    expect(about).to_contain_text("written by you")
    assert axe_violations(page) == []
    screenshot(page, "notes")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "notes")

    # The owner's Python client reads the note the browser sealed and signed.
    mine = [n for n in notelib.list_notes(owner, PinStore(None)) if n["author"] == handle]
    assert len(mine) == 1
    assert mine[0]["content"] == f"They said my file was late {tag}"
    assert mine[0]["contact_date"] == "2026-03-15"
    assert mine[0]["persons"] == ["Me", "Mr Dupont"]
    assert mine[0]["actions"] == "New meeting on 20 March"
    assert mine[0]["owner"] == handle
    assert mine[0]["grant_id"] is None
    # The worker reads it too? No: it is sealed to the owner and its author only.
    assert all(n["id"] != mine[0]["id"] for n in notelib.list_notes(worker, PinStore(None)))

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the notes and the journal (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    exported = Path(download.path()).read_bytes().decode("utf-8")
    assert exported.startswith("Contact notes\r\nid,contact_date,author,owner,persons")
    assert f"They said my file was late {tag}" in exported
    assert f"Worker saw the payslip {tag}" in exported
    assert "Journal (checked: nothing was changed)" in exported
    assert "seq,at,event,sentence,actor_kind" in exported
    assert ",note_added," in exported
    assert ",grant_created," in exported


def test_a_note_the_server_changed_is_refused(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, _ids = owner_with(web_server, tmp_path, [])
    notelib.add_note(owner, f"Secret words {tag}", pins=PinStore(None))
    login(page, owner.account["handle"])

    def tamper(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        signature = bytearray(b64d(body[0]["signature"]))
        signature[5] ^= 1
        body[0]["signature"] = b64e(bytes(signature))
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/notes", tamper)
    menu_link(page, "Notes").click()
    page.wait_for_url("**/notes")
    expect(page.locator("main > [data-error]")).to_contain_text("changed on the server")
    assert f"Secret words {tag}" not in page.content()


def test_a_worker_writes_a_note_about_an_owner_under_a_grant(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, ids = owner_with(web_server, tmp_path, [("lease", f"Lease {tag}")])
    worker = new_account(web_server, "w")
    grant = create_grant(
        owner, worker.account["handle"], purpose=f"Housing {tag}",
        document_ids=list(ids.values()), pins=PinStore(None),
    )  # fmt: skip
    open_notes_page(page, worker.account["handle"])
    about = page.locator("#note-about")
    expect(about).to_be_visible()
    about.select_option(label=f"{owner.account['handle']} (access: Housing {tag})")
    page.locator("#note-said").fill(f"Visit at home {tag}")
    page.locator("#note-persons").fill("Anna")
    page.get_by_role("button", name="Save the note").click()
    expect(page.locator("main [data-done]")).to_contain_text(
        f"Only {owner.account['handle']} and you can read it"
    )
    written = page.locator("[data-written]")
    expect(written).to_contain_text(f"about {owner.account['handle']}")
    expect(written).to_contain_text(f"Said: Visit at home {tag}")
    assert axe_violations(page) == []

    seen = notelib.list_notes(owner, PinStore(None))
    assert [(n["author"], n["content"], n["grant_id"]) for n in seen] == [
        (worker.account["handle"], f"Visit at home {tag}", grant.id)
    ]
