"""Proxies made and used in Chromium: an owner gives a mandate on /proxy (safety code compared,
procedures, actions, duration, purpose) and gets the printable attestation; the Python proxy sees
only the papers in scope. A proxy acting for someone makes a one-shot link on /proxy/for; the
Python client opens it once, and it names the proxy and the owner."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, axe_violations, login, menu_link, screenshot
from tests.browser.test_inbox import new_worker
from tests.conftest import TEST_PASSPHRASE, LiveServer
from wallet.client import links as linklib
from wallet.client.api import ApiClient, ApiError
from wallet.client.contacts import PinStore, own_safety_code
from wallet.client.mandates import ProxyVault, create_mandate, mandates_given
from wallet.client.vault import Vault, VaultError


def owner_with(server: LiveServer, tmp: Path, papers: list[tuple[str, str, bytes]]) -> tuple:
    vault, _ = Vault.create_account(
        ApiClient(server.url), f"o{secrets.token_hex(5)}", TEST_PASSPHRASE
    )
    ids = []
    for number, (doc_type, title, content) in enumerate(papers):
        path = tmp / f"paper-{number}.bin"
        path.write_bytes(content)
        ids.append(vault.upload(path, doc_type, title, media_type="application/pdf")[0])
    return vault, ids


def test_owner_gives_a_mandate_in_the_browser_and_the_proxy_sees_its_scope_only(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, [lease, _payslip] = owner_with(
        web_server,
        tmp_path,
        [("lease", "Lease Rue Haute", b"lease"), ("payslip", "Payslip March", b"pay")],
    )
    proxy = new_worker(web_server)
    login(page, owner.account["handle"])
    menu_link(page, "Proxies").click()
    page.wait_for_url("**/proxy")
    form = page.locator("form[data-mandate]")
    form.wait_for(state="visible")
    form.locator("#mandate-handle").fill(proxy.account["handle"])
    form.get_by_role("button", name="Find").click()
    expect(form.locator("[data-safety-code]")).to_have_text(own_safety_code(proxy))
    # Not compared yet: nothing is given.
    form.locator("input[name=categories][value=housing]").check()
    form.locator("#mandate-purpose").fill("Rent file at the CPAS")
    form.get_by_role("button", name="Give the proxy").click()
    expect(form.locator("[data-error]")).to_contain_text("Compare the safety code")
    assert mandates_given(owner) == []

    # Keyboard only for the last steps: tick the comparison, choose 6 months, send.
    form.locator("#mandate-code-ok").focus()
    page.keyboard.press("Space")
    form.locator("#mandate-duration").focus()
    form.locator("#mandate-duration").select_option("6m")
    form.locator("#mandate-purpose").focus()
    page.keyboard.press("Enter")
    attestation = page.locator("[data-attestation]")
    expect(attestation).to_be_visible()
    expect(attestation).to_contain_text("Personal mandate (digital proxy)")
    expect(attestation).to_contain_text(
        f"{proxy.account['handle']} may act for {owner.account['handle']}."
    )
    expect(attestation).to_contain_text("Purpose: Rent file at the CPAS")
    expect(attestation.locator("svg.qr")).to_be_visible()
    mandate_id = attestation.get_attribute("data-mandate-id")
    check = attestation.locator("[data-attestation-url]").inner_text()
    assert f"/mandates/check/{mandate_id}?c=" in check
    with page.expect_download() as caught:
        attestation.get_by_role("button", name="Save it as a file").click()
    html = Path(caught.value.path()).read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html and mandate_id in html
    assert axe_violations(page) == []
    screenshot(page, "proxy-give")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "proxy-give")
    page.set_viewport_size(PHONE)

    # The owner's Python client reads the mandate the browser signed, with its terms.
    [given] = mandates_given(owner)
    assert given["id"] == mandate_id
    assert given["descriptor"]["scope"] == {"categories": ["housing"], "documents": []}
    assert given["descriptor"]["mandate_kind"] == "personal"
    assert given["actions"] == ["view"]
    # The proxy sees the lease (housing) and not the payslip.
    acting = ProxyVault.open(proxy, owner.account["handle"], PinStore(None))
    listed = acting.list_documents()
    assert [d.id for d in listed] == [lease]
    acting.download(lease, tmp_path / "got.bin")
    assert (tmp_path / "got.bin").read_bytes() == b"lease"
    with pytest.raises(VaultError):
        acting.upload(tmp_path / "got.bin", "lease")  # 'upload' was not given


def test_a_proxy_shares_a_one_shot_link_that_names_proxy_and_owner(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    payload = secrets.token_bytes(2048)
    owner, [lease, payslip] = owner_with(
        web_server,
        tmp_path,
        [("lease", "Lease Rue Haute", payload), ("payslip", "Payslip March", b"pay")],
    )
    proxy = new_worker(web_server)
    create_mandate(
        owner,
        proxy.account["handle"],
        categories=["housing"],
        actions=["view", "share"],
        duration="1m",
        purpose="Rent file",
        pins=PinStore(None),
    )
    login(page, proxy.account["handle"])
    menu_link(page, "Proxies").click()
    page.wait_for_url("**/proxy")
    page.get_by_role("link", name=f"Act for {owner.account['handle']}").click()
    page.wait_for_url("**/proxy/for/*")
    share = page.locator("[data-share]")
    expect(share).to_be_visible()
    boxes = share.locator("input[name=share-documents]")
    expect(boxes).to_have_count(1)  # the payslip is not in the mandate
    assert boxes.get_attribute("value") == lease
    assert "Payslip March" not in page.content()
    share.locator("#share-purpose").fill("For the landlord")
    share.get_by_role("button", name="Make the link").click()
    expect(share.locator("[data-error]")).to_contain_text("Nothing to share")
    boxes.check()
    share.get_by_role("button", name="Make the link").click()
    expect(share.locator("[data-share-result]")).to_be_visible()
    expect(share.locator("[data-share-qr] svg")).to_be_visible()
    url = share.locator("[data-share-url]").input_value()
    assert "/s/" in url and "#" in url
    assert axe_violations(page) == []
    screenshot(page, "proxy-share-link")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "proxy-share-link")
    page.set_viewport_size(PHONE)

    # The link page names both from the server's records, each with their own safety code.
    page.goto(url)
    facts = page.locator("[data-preview]")
    expect(facts.locator('[data-fact="owner"]')).to_have_text(
        f"{proxy.account['handle']}, for {owner.account['handle']}"
    )
    codes = facts.locator('[data-fact="safety-code"] span')
    expect(codes).to_have_text(
        [f"{v.account['handle']}: {own_safety_code(v)}" for v in (proxy, owner)]
    )

    opened = linklib.open_link(url, tmp_path / "opened")
    assert opened.senders is not None
    assert opened.senders.sender.safety_code == own_safety_code(proxy)
    assert opened.proxy == proxy.account["handle"]
    assert opened.owner == owner.account["handle"]
    assert opened.purpose == "For the landlord"
    [file] = opened.files
    assert file.read_bytes() == payload
    with pytest.raises(ApiError, match="already used"):
        linklib.open_link(url, tmp_path / "again")  # one use only
    assert payslip not in url
