"""Organisations in Chromium at 360x740: an admin creates an office, adds a colleague after
comparing the safety code, makes them admin then worker again, and removes a member, which
changes the team key in the browser; an owner gives the office standing access from the
grants page. The Python client checks every step from the other side: the team key the page
sealed opens with the member's keys, the grant reads with the team key, a removed member reads
nothing more."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, login, screenshot
from tests.browser.test_kiosk import owner_with_documents
from tests.browser.test_sharing_flows import go
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import organisations as orglib
from wallet.client.api import ApiClient, ApiError
from wallet.client.contacts import PinStore, safety_code
from wallet.client.grants import create_org_grant, reader_for, received, received_documents
from wallet.client.vault import Vault


def new_account(server: LiveServer, prefix: str = "w") -> Vault:
    vault, _ = Vault.create_account(
        ApiClient(server.url), f"{prefix}{secrets.token_hex(5)}", TEST_PASSPHRASE
    )
    return vault


def team_reads(member: Vault, grant_id: str, owner: Vault) -> list[str]:
    pins = PinStore(None)
    [grant] = [g for g in received(member, pins) if g["id"] == grant_id]
    team = reader_for(member, grant, pins)
    docs = received_documents(member, grant_id, owner.keys.public_signing_key, team)
    return sorted(d.meta["title"] for d in docs)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_an_admin_manages_members_and_roles_in_the_browser(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    admin = new_account(web_server, "a")
    colleague = new_account(web_server)
    leaver = new_account(web_server)
    owner, [doc_id] = owner_with_documents(web_server, tmp_path, [f"Lease-{tag}"])

    login(page, admin.account["handle"])
    go(page, "/orgs")
    page.locator("main[data-page=orgs][data-ready]").wait_for(state="attached")
    expect(page.locator("[data-none]")).to_be_visible()
    page.get_by_text("Create an organisation").click()
    page.locator("#org-name").fill(f"Shelter {tag}")
    page.get_by_role("button", name="Create", exact=True).click()
    page.wait_for_url(f"**/orgs/shelter-{tag}?created=1")
    handle = f"shelter-{tag}"
    expect(page.locator("[data-org-name]")).to_have_text(f"Shelter {tag}")
    code = page.locator("[data-team-code]").inner_text()
    # The code the page shows is the one an owner's Python client checks.
    team = orglib.verified_team(owner, handle)
    assert code == team.safety_code

    def add(member: Vault, role: str) -> None:
        page.locator("#member-handle").fill(member.account["handle"])
        page.locator("[data-add] [data-lookup]").click()
        expect(page.locator("[data-safety-code]")).to_have_text(
            safety_code(member.keys.public_encryption_key, member.keys.public_signing_key)
        )
        page.locator("#member-role").select_option(role)
        page.get_by_role("button", name="Add to the team").click()
        expect(page.locator("[data-add] [data-error]")).to_be_visible()  # codes not compared
        page.locator("#member-code-ok").check()
        page.get_by_role("button", name="Add to the team").click()
        expect(page.locator("[data-done]")).to_contain_text(f"{member.account['handle']} is now")
        expect(page.locator(f"[data-member='{member.account['handle']}']")).to_be_visible()

    add(colleague, "worker")
    add(leaver, "worker")
    screenshot(page, "org-members")
    no_sideways_scroll(page)
    assert axe_violations(page) == []

    # The team key the page sealed opens with each member's own keys (checked in Python).
    grant = create_org_grant(
        owner, handle, purpose=f"Housing {tag}", document_ids=[doc_id], pins=PinStore(None)
    )
    assert team_reads(colleague, grant.id, owner) == [f"Lease-{tag}"]
    assert team_reads(leaver, grant.id, owner) == [f"Lease-{tag}"]

    # Roles: the colleague becomes admin, then worker again.
    row = page.locator(f"[data-member='{colleague.account['handle']}']")
    row.get_by_role("button", name=f"Make admin: {colleague.account['handle']}").click()
    expect(row).to_have_attribute("data-member-role", "admin")
    roles = {m["keys"]["handle"]: m["role"] for m in orglib.org_detail(admin, handle)["members"]}
    assert roles[colleague.account["handle"]] == "admin"
    row = page.locator(f"[data-member='{colleague.account['handle']}']")
    row.get_by_role("button", name=f"Make worker: {colleague.account['handle']}").click()
    expect(row).to_have_attribute("data-member-role", "worker")

    # Removing takes two taps, and changes the team key in this browser.
    before = orglib.public_team(owner, handle)["team_keys"][-1]["key_id"]
    remove = page.locator(f"[data-remove='{leaver.account['handle']}']")
    remove.click()
    expect(remove).to_have_text(f"Tap again to remove {leaver.account['handle']}")
    remove.click()
    expect(page.locator("[data-done]")).to_contain_text("is no longer in the team")
    expect(page.locator(f"[data-member='{leaver.account['handle']}']")).to_have_count(0)
    after = orglib.verified_team(owner, handle, anchor_key_id=before)  # the chain holds
    assert after.key_id != before
    assert after.safety_code in page.locator("[data-done]").inner_text()
    # Those who stay read on with the new key; the one who left reads nothing.
    assert team_reads(colleague, grant.id, owner) == [f"Lease-{tag}"]
    assert [g["id"] for g in received(leaver, PinStore(None))] == []
    with pytest.raises(ApiError) as gone:
        leaver.api.api("GET", f"/received/{grant.id}/documents")
    assert gone.value.status == 404
    events = [e["event"] for e in orglib.org_events(admin, handle)]
    assert events.count("role_changed") == 2 and "team_key_rotated" in events


def test_an_owner_gives_an_organisation_access_from_the_grants_page(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    admin = new_account(web_server, "a")
    worker = new_account(web_server)
    created = orglib.create_org(admin, f"CPAS {tag}")
    orglib.add_member(admin, created.handle, worker.account["handle"], pins=PinStore(None))
    owner, [lease_id, _other] = owner_with_documents(
        web_server, tmp_path, [f"Lease-{tag}", f"Diary-{tag}"]
    )

    login(page, owner.account["handle"])
    go(page, "/grants")
    page.get_by_role("link", name="Give an organisation access").click()
    page.wait_for_url("**/grants/org")
    page.locator("main[data-page=grant_org][data-ready]").wait_for(state="attached")
    page.locator("#og-org").fill(created.handle)
    page.locator("[data-lookup]").click()
    expect(page.locator("[data-safety-code]")).to_have_text(created.safety_code)
    expect(page.locator("[data-team-name]")).to_contain_text(f"CPAS {tag}")
    page.locator(f"input[name=documents][value='{lease_id}']").check()
    page.locator("#og-purpose").fill(f"Rent aid {tag}")
    page.get_by_role("button", name="Give access").click()
    expect(page.locator("[data-error]")).to_be_visible()  # the codes were not compared yet
    page.locator("#og-code-ok").check()
    page.get_by_role("button", name="Give access").click()
    expect(page.locator("[data-result-summary]")).to_contain_text(
        f"Access given to the team of CPAS {tag}: 1 document now."
    )
    screenshot(page, "grant-org-done")
    no_sideways_scroll(page)
    assert axe_violations(page) == []

    # The worker reads it with the team key, every piece checked against the owner's keys.
    [grant] = [g for g in received(worker, PinStore(None)) if g.get("organisation")]
    assert grant["descriptor"]["purpose"] == f"Rent aid {tag}"
    assert grant["descriptor"]["grantee_org"] == created.id
    assert team_reads(worker, grant["id"], owner) == [f"Lease-{tag}"]
