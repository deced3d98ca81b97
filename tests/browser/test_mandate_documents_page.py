"""A mandate can name single documents, from the proxies page in Chromium at 360x740 (like
`wallet proxy create --docs`): the owner ticks one document and no procedure; the mandate the
browser signed names it, and the proxy sees that one document and not the other of the same
kind."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, login, screenshot
from tests.browser.test_org_pages import new_account, no_sideways_scroll
from tests.browser.test_proxy_web_links import owner_with
from tests.browser.test_sharing_flows import go
from tests.conftest import LiveServer
from wallet.client.contacts import PinStore, own_safety_code
from wallet.client.mandates import ProxyVault, mandates_given


def test_a_mandate_names_one_document(page: Page, web_server: LiveServer, tmp_path: Path) -> None:
    tag = secrets.token_hex(3)
    owner, [march, april] = owner_with(
        web_server,
        tmp_path,
        [
            ("payslip", f"Payslip March {tag}", b"march"),
            ("payslip", f"Payslip April {tag}", b"april"),
        ],
    )
    proxy = new_account(web_server, "p")
    login(page, owner.account["handle"])
    go(page, "/proxy")
    form = page.locator("form[data-mandate]")
    form.wait_for(state="visible")
    form.locator("#mandate-handle").fill(proxy.account["handle"])
    form.get_by_role("button", name="Find").click()
    expect(form.locator("[data-safety-code]")).to_have_text(own_safety_code(proxy))
    form.locator("#mandate-code-ok").check()
    form.locator("#mandate-purpose").fill(f"Income file {tag}")
    form.get_by_role("button", name="Give the proxy").click()
    expect(form.locator("[data-error]")).to_be_visible()  # nothing chosen yet
    form.get_by_text("Or only some documents").click()
    form.locator(f"input[name=mandate_documents][value='{march}']").check()
    screenshot(page, "proxy-single-document")
    no_sideways_scroll(page)
    assert axe_violations(page) == []
    form.get_by_role("button", name="Give the proxy").click()
    expect(page.locator("[data-attestation]")).to_be_visible()

    [given] = mandates_given(owner)
    assert given["descriptor"]["scope"] == {"categories": [], "documents": [march]}
    acting = ProxyVault.open(proxy, owner.account["handle"], PinStore(None))
    assert [d.id for d in acting.list_documents()] == [march]
    acting.download(march, tmp_path / "got.bin")
    assert (tmp_path / "got.bin").read_bytes() == b"march"
    assert april not in {d.id for d in acting.list_documents()}
