"""A worker asks a person for documents from the inbox, in Chromium at 360x740 (like `wallet
request create`): the person's safety code is compared first, the request is signed and sealed
in the browser, and the person's Python client opens it, checked against the worker's key."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, login, screenshot
from tests.browser.test_org_pages import new_account, no_sideways_scroll
from tests.browser.test_sharing_flows import go
from tests.conftest import LiveServer
from wallet.client import requests as requestlib
from wallet.client.contacts import PinStore, safety_code


def test_a_worker_asks_for_documents_from_the_inbox(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    worker = new_account(web_server)
    person = new_account(web_server, "p")
    login(page, worker.account["handle"])
    go(page, "/inbox")
    page.get_by_role("link", name="Ask for documents").click()
    page.wait_for_url("**/requests/new")
    page.locator("main[data-page=request_new][data-ready]").wait_for(state="attached")
    page.locator("#ask-handle").fill(person.account["handle"])
    page.get_by_role("button", name="Find").click()
    expect(page.locator("[data-safety-code]")).to_have_text(
        safety_code(person.keys.public_encryption_key, person.keys.public_signing_key)
    )
    page.locator("#ask-code-ok").check()
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("[data-error]")).to_have_text("Tick at least one kind of document.")
    page.get_by_text("Work and training").click()
    page.locator("input[name=types][value=payslip]").check()
    page.get_by_text("Identity and residence papers").click()
    page.locator("input[name=types][value=id_card]").check()
    page.locator("#ask-purpose").fill(f"Integration income {tag}")
    page.locator("#ask-message").fill("The last three, please.")
    page.locator("#ask-due").fill("2020-06-30")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("[data-error]")).to_have_text("The day is in the past. Choose a later day.")
    due = (date.today() + timedelta(days=60)).isoformat()
    page.locator("#ask-due").fill(due)
    page.get_by_role("button", name="Send the request").click()
    summary = page.locator("[data-result-summary]")
    expect(summary).to_contain_text(f"Request sent to {person.account['handle']}")
    screenshot(page, "request-new-sent")
    no_sideways_scroll(page)
    assert axe_violations(page) == []

    # The person's client opens it, signed by the worker's pinned key, sealed to the person.
    [opened] = requestlib.list_requests(person, PinStore(tmp_path / "pins.json"))
    assert opened.direction == "incoming" and opened.status == "open"
    assert opened.requester == worker.account["handle"]
    assert opened.purpose == f"Integration income {tag}"
    assert opened.types == ["id_card", "payslip"]
    assert opened.message == "The last three, please."
    assert opened.due.isoformat() == due
    # And the worker sees it in the inbox among the papers asked for.
    page.get_by_role("link", name="Open the inbox").click()
    page.wait_for_url("**/inbox")
    expect(page.locator("[data-requests]")).to_contain_text(f"Integration income {tag}")
