"""The worker inbox in Chromium: a personal grant with its purpose opened in the browser, a grant
to the worker's team, the requests the worker sent with their status, and a link the worker
just opened - and a sealed grant the server tampered with is refused, not shown."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import axe_violations, login, menu_link, screenshot, soft_goto
from tests.browser.test_kiosk import owner_with_documents
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import links as linklib
from wallet.client import requests as requestlib
from wallet.client.api import ApiClient
from wallet.client.contacts import PinStore
from wallet.client.grants import create_grant, create_org_grant
from wallet.client.organisations import add_member, create_org
from wallet.client.vault import Vault
from wallet.crypto.encoding import b64d, b64e


def new_worker(server: LiveServer) -> Vault:
    vault, _ = Vault.create_account(
        ApiClient(server.url), f"w{secrets.token_hex(5)}", TEST_PASSPHRASE
    )
    return vault


def test_inbox_shows_grants_requests_and_links(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, [lease_id, _other] = owner_with_documents(
        web_server, tmp_path, [f"Lease-{tag}", f"Other-{tag}"]
    )
    worker = new_worker(web_server)
    admin = new_worker(web_server)
    pins = PinStore(tmp_path / "pins.json")
    create_grant(
        owner,
        worker.account["handle"],
        purpose=f"Housing file {tag}",
        document_ids=[lease_id],
        pins=pins,
    )
    team = create_org(admin, f"Shelter team {tag}")
    add_member(admin, team.handle, worker.account["handle"], pins=PinStore(None))
    create_org_grant(
        owner, team.handle, purpose="Team follow-up", document_ids=[lease_id], pins=pins
    )
    worker_pins = PinStore(tmp_path / "worker-pins.json")
    requestlib.create_request(
        worker, owner.account["handle"], types=["payslip"], purpose=f"Rent aid {tag}",
        pins=worker_pins,
    )  # fmt: skip
    other = new_worker(web_server)
    refused = requestlib.create_request(
        worker, other.account["handle"], types=["lease"], purpose="Deposit", pins=worker_pins
    )
    requestlib.refuse(other, refused.id, reason="Not now", pins=PinStore(None))
    link = linklib.create_link(owner, [lease_id], uses=1, purpose="Quick look")
    linklib.open_link(link.url, tmp_path / "opened", api=worker.api)

    login(page, worker.account["handle"])
    menu_link(page, "Inbox").click()
    page.wait_for_url("**/inbox")
    grants = page.locator("[data-grants]")
    expect(grants).to_contain_text(f"From {owner.account['handle']}")
    expect(grants).to_contain_text(f"For: Housing file {tag}")
    expect(grants).to_contain_text("Papers: 1")
    team_grants = page.locator("[data-team-grants]")
    expect(team_grants).to_contain_text(f"Shelter team {tag}")
    # Opened with the member's copy of the team key, signed by the admin and the owner.
    expect(team_grants).to_contain_text("For: Team follow-up")
    requests = page.locator("[data-requests]")
    expect(requests).to_contain_text(f"Rent aid {tag}")
    expect(
        requests.locator(f"[data-request] >> text=Asked of {owner.account['handle']}")
    ).to_be_visible()
    expect(requests).to_contain_text("Waiting")
    expect(requests).to_contain_text("Refused")
    expect(requests).to_contain_text("Their answer: Not now")
    expect(page.locator("[data-links]")).to_contain_text(f"A link from {owner.account['handle']}")
    assert axe_violations(page) == []
    screenshot(page, "inbox")


def test_inbox_refuses_a_grant_the_server_changed(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, [doc_id] = owner_with_documents(web_server, tmp_path, ["Payslip"])
    worker = new_worker(web_server)
    create_grant(
        owner, worker.account["handle"], purpose="Secret purpose", document_ids=[doc_id],
        pins=PinStore(None),
    )  # fmt: skip
    login(page, worker.account["handle"])

    # The server (here: the network) swaps the signature of the sealed purpose.
    def tamper(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        grant = body["grants"][0]
        signature = bytearray(b64d(grant["signature"]))
        signature[0] ^= 1
        grant["signature"] = b64e(bytes(signature))
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/inbox", tamper)
    soft_goto(page, "/inbox")  # not in an organisation: no menu entry
    page.wait_for_url("**/inbox")
    expect(page.locator("main [data-error]")).to_contain_text("changed on the server")
    assert "Secret purpose" not in page.content()


def test_inbox_refuses_a_team_key_the_server_changed(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, [doc_id] = owner_with_documents(web_server, tmp_path, ["Payslip"])
    worker = new_worker(web_server)
    admin = new_worker(web_server)
    team = create_org(admin, "Night shelter")
    add_member(admin, team.handle, worker.account["handle"], pins=PinStore(None))
    create_org_grant(
        owner, team.handle, purpose="Team secret purpose", document_ids=[doc_id],
        pins=PinStore(None),
    )  # fmt: skip
    login(page, worker.account["handle"])

    def swap_admin_signature(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        signature = bytearray(b64d(body["my_copy"]["signature"]))
        signature[-1] ^= 1
        body["my_copy"]["signature"] = b64e(bytes(signature))
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/orgs/*", swap_admin_signature)
    menu_link(page, "Inbox").click()
    page.wait_for_url("**/inbox")
    expect(page.locator("main [data-error]")).to_contain_text("changed on the server")
    assert "Team secret purpose" not in page.content()
