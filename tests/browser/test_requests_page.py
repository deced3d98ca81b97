"""The owner's /requests page in Chromium: a worker's request (sent by the Python client) shown
in plain words and checked against the worker's signature; one action gives part of it (a
scoped grant + the signed, sealed answer, like requestlib.fulfil) and the worker's Python client
reads the document and the refusal reason; refuse-all; a tampered signature is refused."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import DESKTOP, axe_violations, login, menu_link, screenshot
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import grants as grantlib
from wallet.client import requests as requestlib
from wallet.client.api import ApiClient, ApiError
from wallet.client.contacts import PinStore
from wallet.client.vault import Vault
from wallet.crypto.encoding import b64d, b64e


def new_account(server: LiveServer, prefix: str) -> Vault:
    vault, _ = Vault.create_account(
        ApiClient(server.url), f"{prefix}{secrets.token_hex(5)}", TEST_PASSPHRASE
    )
    return vault


def owner_with(server: LiveServer, tmp: Path, papers: list[tuple[str, str]]) -> tuple[Vault, dict]:
    """An owner made by the Python client with one small text file per (type, title)."""
    owner = new_account(server, "o")
    ids = {}
    for number, (doc_type, title) in enumerate(papers):
        path = tmp / f"paper-{number}.txt"
        path.write_text(f"{title} content", encoding="utf-8")
        ids[title] = owner.upload(path, doc_type, title, media_type="text/plain")[0]
    return owner, ids


def open_requests_page(page: Page, handle: str) -> None:
    login(page, handle)
    menu_link(page, "Requests").click()
    page.wait_for_url("**/requests")
    page.locator("main[data-page=requests][data-ready]").wait_for(state="attached")


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Presses Tab until `selector` has the focus: proves it is reachable by keyboard alone."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("node => node === document.activeElement"):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_owner_gives_one_of_two_types_with_a_reason(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, ids = owner_with(
        web_server, tmp_path, [("id_card", f"ID {tag}"), ("payslip", f"Payslip {tag}")]
    )
    worker = new_account(web_server, "w")
    worker_pins = PinStore(tmp_path / "worker-pins.json")
    due = datetime.now(UTC).date() + timedelta(days=20)
    created = requestlib.create_request(
        worker, owner.account["handle"], types=["payslip", "id_card"],
        purpose=f"Social inquiry {tag}", due=due, message="Bring them please.", pins=worker_pins,
    )  # fmt: skip

    open_requests_page(page, owner.account["handle"])
    card = page.locator(f"[data-request='{created.id}']")
    who = worker.account["handle"]
    expect(card).to_contain_text(f"{who} asks for: Identity card, Payslip or salary certificate.")
    expect(card).to_contain_text(f"For: Social inquiry {tag}")
    expect(card).to_contain_text("Message: Bring them please.")
    expect(card).to_contain_text(f"Needed by {due:%B} {due.day}, {due.year}.")
    # The owner's documents of the asked types are suggested, decrypted in the browser.
    expect(card).to_contain_text(f"ID {tag}")
    expect(card).to_contain_text(f"Payslip {tag}")
    expect(card.locator("input[data-end]")).to_have_value((due + timedelta(days=8)).isoformat())
    expect(page.locator("main")).to_contain_text("cannot be unseen")
    assert axe_violations(page) == []
    screenshot(page, "requests-open")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "requests-open")

    card.locator("input[data-type=payslip]").uncheck()
    card.locator("[data-reason]").fill(f"No payslip this month {tag}")
    card.get_by_role("button", name="Give these documents").click()
    expect(page.locator("main [data-done]")).to_contain_text(
        f"Done. {who} can now open your documents (1)"
    )
    answered = page.locator(f"[data-answered] [data-request='{created.id}']")
    expect(answered).to_contain_text("You gave part.")
    expect(answered).to_contain_text("Given: Identity card (documents: 1).")
    expect(answered).to_contain_text("Not given: Payslip or salary certificate.")
    expect(answered).to_contain_text(f"Your reason: No payslip this month {tag}")
    assert axe_violations(page) == []
    screenshot(page, "requests-answered")

    # The worker's Python client: the owner-signed answer, and the document through the grant.
    seen = requestlib.get_request(worker, created.id, worker_pins)
    assert seen.status == "partly_fulfilled"
    assert seen.answer is not None
    assert seen.answer["given"] == ["id_card"]
    assert seen.answer["refused"] == ["payslip"]
    assert seen.answer["reason"] == f"No payslip this month {tag}"
    assert seen.answer["documents"] == 1
    grants = [g for g in grantlib.received(worker, worker_pins) if g["id"] == seen.grant_id]
    assert len(grants) == 1
    descriptor = grants[0]["descriptor"]
    assert descriptor["purpose"] == f"Social inquiry {tag}"
    assert descriptor["scope"]["documents"] == [ids[f"ID {tag}"]]
    end = (due + timedelta(days=8)).isoformat()
    assert descriptor["expires_at"] == f"{end}T23:59:00+00:00"
    assert seen.answer["grant_expires_at"] == descriptor["expires_at"]
    documents = grantlib.received_documents(
        worker, seen.grant_id, b64d(owner.account["public_signing_key"])
    )
    assert [d.document_id for d in documents] == [ids[f"ID {tag}"]]
    target = tmp_path / "got.txt"
    grantlib.received_get(worker, seen.grant_id, documents[0], target)
    assert target.read_text(encoding="utf-8") == f"ID {tag} content"

    # Ending it from the page closes the request: the grant's reads stop at once.
    answered.get_by_role("button", name=f"End access now for {who}").click()
    expect(page.locator(f"[data-answered] [data-request='{created.id}']")).to_contain_text(
        "Closed: the access has ended."
    )
    assert requestlib.get_request(worker, created.id, worker_pins).status == "closed"
    with pytest.raises(ApiError) as ended:
        grantlib.received_documents(
            worker, seen.grant_id, b64d(owner.account["public_signing_key"])
        )
    assert ended.value.status == 404


def test_owner_refuses_all_by_keyboard_only(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, _ids = owner_with(web_server, tmp_path, [("lease", f"Lease {tag}")])
    worker = new_account(web_server, "w")
    worker_pins = PinStore(tmp_path / "worker-pins.json")
    created = requestlib.create_request(
        worker, owner.account["handle"], types=["lease"], purpose=f"Deposit {tag}",
        pins=worker_pins,
    )  # fmt: skip
    open_requests_page(page, owner.account["handle"])
    card = page.locator(f"[data-request='{created.id}']")
    expect(card).to_contain_text(f"For: Deposit {tag}")

    tab_to(page, f"[data-request='{created.id}'] [data-reason]")
    page.keyboard.type(f"Not before I see the contract {tag}")
    tab_to(page, f"[data-request='{created.id}'] [data-refuse-all]")
    page.keyboard.press("Enter")
    expect(page.locator("main [data-done]")).to_contain_text("was told you said no")
    answered = page.locator(f"[data-answered] [data-request='{created.id}']")
    expect(answered).to_contain_text("You said no.")

    seen = requestlib.get_request(worker, created.id, worker_pins)
    assert seen.status == "refused"
    assert seen.grant_id is None
    assert seen.answer is not None
    assert seen.answer["refused"] == ["lease"]
    assert seen.answer["given"] == []
    assert seen.answer["reason"] == f"Not before I see the contract {tag}"
    assert grantlib.received(worker, worker_pins) == []


def test_a_request_with_a_tampered_signature_is_refused(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, _ids = owner_with(web_server, tmp_path, [("payslip", f"Payslip {tag}")])
    worker = new_account(web_server, "w")
    requestlib.create_request(
        worker, owner.account["handle"], types=["payslip"], purpose=f"Secret purpose {tag}",
        pins=PinStore(None),
    )  # fmt: skip
    login(page, owner.account["handle"])

    # The server (here: the network) flips one bit of the worker's signature.
    def tamper(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        signature = bytearray(b64d(body[0]["signature"]))
        signature[0] ^= 1
        body[0]["signature"] = b64e(bytes(signature))
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/requests", tamper)
    menu_link(page, "Requests").click()
    page.wait_for_url("**/requests")
    expect(page.locator("main > [data-error]")).to_contain_text("changed on the server")
    assert f"Secret purpose {tag}" not in page.content()
    assert page.locator("[data-give]").count() == 0
