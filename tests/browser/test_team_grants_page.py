"""Grants to an organisation read in Chromium: a member opens the team key (sealed to them by an
admin), downloads the owner's document with the exact bytes and sees the shared details; after
the admin removes them (a new team key), the page refuses; a key the server swapped is refused."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import DESKTOP, PHONE, axe_violations, login, menu_link, screenshot
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client.api import ApiClient
from wallet.client.contacts import PinStore
from wallet.client.grants import create_org_grant
from wallet.client.organisations import add_member, create_org, remove_member
from wallet.client.vault import Vault
from wallet.crypto.encoding import b64d, b64e


def account(server: LiveServer, prefix: str) -> Vault:
    vault, _ = Vault.create_account(
        ApiClient(server.url), f"{prefix}{secrets.token_hex(5)}", TEST_PASSPHRASE
    )
    return vault


def team_with_grant(server: LiveServer, tmp_path: Path) -> tuple[Vault, Vault, Vault, str, bytes]:
    """owner, admin, worker, the organisation's handle, and the shared file's bytes."""
    owner = account(server, "o")
    payload = secrets.token_bytes(3000) + b"lease"
    path = tmp_path / "lease.bin"
    path.write_bytes(payload)
    doc_id, _ = owner.upload(path, "lease", "Lease Rue Haute", media_type="application/pdf")
    owner.set_profile_field("first_name", "Amina")
    admin = account(server, "a")
    worker = account(server, "w")
    team = create_org(admin, "Housing desk")
    add_member(admin, team.handle, worker.account["handle"], pins=PinStore(None))
    create_org_grant(
        owner,
        team.handle,
        purpose="Rent file",
        document_ids=[doc_id],
        fields=["first_name"],
        pins=PinStore(tmp_path / "owner-pins.json"),
    )
    return owner, admin, worker, team.handle, payload


def open_received(page: Page) -> None:
    menu_link(page, "Shared with me").click()
    page.wait_for_url("**/received")
    page.locator("main[data-page=received][data-ready]").wait_for(state="attached")


def test_a_member_downloads_a_team_document_until_removed(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, admin, worker, team, payload = team_with_grant(web_server, tmp_path)
    login(page, worker.account["handle"])
    open_received(page)
    section = page.locator("section.received-grant[data-team='1']")
    expect(section.locator("h2")).to_contain_text(f"From {owner.account['handle']}")
    expect(section.locator("h2")).to_contain_text("Housing desk")
    expect(section.locator("h2")).to_contain_text("Rent file")
    expect(section.locator("[data-fields]")).to_contain_text("Amina")
    expect(section.locator("li[data-document-id]")).to_contain_text("Lease Rue Haute")
    grant_id = section.get_attribute("data-grant-id")
    with page.expect_download() as caught:
        section.locator("[data-save]").click()
    assert Path(caught.value.path()).read_bytes() == payload
    assert axe_violations(page) == []
    screenshot(page, "received-team")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "received-team")
    page.set_viewport_size(PHONE)

    # The admin removes the worker: a new team key they never get; nothing shows any more.
    remove_member(admin, team, worker.account["handle"], pins=PinStore(None))
    menu_link(page, "My documents").click()
    page.wait_for_url("**/documents")
    open_received(page)
    expect(page.locator("section.received-grant[data-team='1']")).to_have_count(0)
    assert "Lease Rue Haute" not in page.content()
    assert "Amina" not in page.content()
    # Asked directly, the server answers as for an unknown grant.
    status = page.evaluate(
        "async (id) => (await fetch(`/api/v1/received/${id}/documents`)).status", grant_id
    )
    assert status == 404


def test_a_team_document_key_the_server_swapped_is_refused(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, _admin, worker, _team, _payload = team_with_grant(web_server, tmp_path)
    login(page, worker.account["handle"])

    # The server flips one bit of the owner's signed statement about the document key.
    def tamper(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        for item in body:
            signature = bytearray(b64d(item["statement_signature"]))
            signature[0] ^= 1
            item["statement_signature"] = b64e(bytes(signature))
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/received/*/documents", tamper)
    open_received(page)
    expect(page.locator("main [data-error]")).to_contain_text("not signed by its owner")
    assert "Lease Rue Haute" not in page.content()
