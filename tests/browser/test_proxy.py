"""Proxies in Chromium: the owner sees the mandate they gave and ends it; the proxy sees the
mandate received, acts for the owner with a banner that stays on every page until they stop,
and opens a paper in scope - checked against the owner's signatures in the browser."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import axe_violations, login, menu_link, screenshot, soft_goto
from tests.browser.test_inbox import new_worker
from tests.browser.test_kiosk import owner_with_documents
from tests.conftest import LiveServer
from wallet.client.contacts import PinStore
from wallet.client.mandates import create_mandate


def give_mandate(server: LiveServer, tmp: Path, titles: list[str]) -> tuple:
    owner, ids = owner_with_documents(server, tmp, titles)
    proxy = new_worker(server)
    created = create_mandate(
        owner,
        proxy.account["handle"],
        categories=[],
        document_ids=[ids[0]],
        actions=["view"],
        duration="1m",
        purpose="Housing file at the CPAS",
        pins=PinStore(None),
    )
    return owner, proxy, ids, created


def test_acting_for_someone_keeps_the_banner_until_stopped(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    owner, proxy, _ids, _created = give_mandate(
        web_server, tmp_path, [f"Lease-{tag}", f"Private-{tag}"]
    )
    owner_handle = owner.account["handle"]
    login(page, proxy.account["handle"])
    menu_link(page, "Proxies").click()
    page.wait_for_url("**/proxy")
    received = page.locator("[data-received]")
    expect(received).to_contain_text(f"You may act for {owner_handle}")
    expect(received).to_contain_text("Purpose: Housing file at the CPAS")
    expect(received).to_contain_text("May see papers")
    assert axe_violations(page) == []
    screenshot(page, "proxy-list")

    page.get_by_role("link", name=f"Act for {owner_handle}").click()
    page.wait_for_url("**/proxy/for/*")
    banner = page.locator("[data-proxy-banner]")
    expect(banner).to_contain_text(f"You are acting for {owner_handle}")
    expect(banner).not_to_contain_text("your own wallet")
    docs = page.locator("[data-acting-docs]")
    expect(docs).to_contain_text(f"Lease-{tag}")
    assert f"Private-{tag}" not in page.content()  # outside the mandate's scope
    # What the proxy did (`wallet proxy actions`): listing the papers does not count.
    expect(page.locator("[data-done-empty]")).to_have_text("You did nothing for this person yet.")
    page.get_by_role("button", name=f"Show Lease-{tag}").click()
    frame = page.frame_locator("[data-viewer] iframe")
    expect(frame.locator("body")).to_contain_text(f"Lease-{tag} content")
    expect(page.locator("[data-done-list]")).to_contain_text(f"You opened “Lease-{tag}”.")
    expect(page.locator("[data-done-empty]")).to_be_hidden()
    assert axe_violations(page) == []
    screenshot(page, "proxy-acting")

    # The banner is permanent while acting: it stays on every other page.
    for name, url in (("My documents", "**/documents"), ("Inbox", "**/inbox")):
        if name == "Inbox":  # not in an organisation: no menu entry, but the page is there
            soft_goto(page, "/inbox")
        else:
            menu_link(page, name).click()
        page.wait_for_url(url)
        expect(banner).to_be_visible()
        expect(banner).to_contain_text(owner_handle)
        expect(banner).to_contain_text("This page is your own wallet, not theirs.")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "proxy-banner-elsewhere")
    # Another language: the banner follows, and stays.
    for language, words in (("fr", "Vous agissez pour"), ("en", "You are acting for")):
        page.locator("#language-select").select_option(language)
        page.locator("form[data-language] button[type=submit]").click()
        expect(banner).to_contain_text(words)

    banner.get_by_role("button", name="Stop acting").click()
    page.wait_for_url("**/proxy")
    expect(page.locator("[data-proxy-banner]")).to_have_count(0)
    menu_link(page, "My documents").click()
    page.wait_for_url("**/documents")
    expect(page.locator("[data-proxy-banner]")).to_have_count(0)


def test_owner_sees_and_ends_the_mandate(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, proxy, _ids, _created = give_mandate(web_server, tmp_path, ["Payslip"])
    proxy_handle = proxy.account["handle"]
    login(page, owner.account["handle"])
    menu_link(page, "Proxies").click()
    page.wait_for_url("**/proxy")
    given = page.locator("[data-given]")
    expect(given).to_contain_text(f"{proxy_handle} may act for you")
    expect(given).to_contain_text("Active")
    page.get_by_role("button", name=f"End the proxy of {proxy_handle}").click()
    expect(given).to_contain_text("Ended by you")
    expect(page.get_by_role("button", name=f"End the proxy of {proxy_handle}")).to_have_count(0)
    # The server agrees: the proxy no longer receives it.
    assert proxy.api.api("GET", "/mandates/received").json() == []


def test_a_mandate_the_server_changed_is_refused(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, proxy, _ids, _created = give_mandate(web_server, tmp_path, ["Payslip"])
    login(page, proxy.account["handle"])

    def widen(route: Route) -> None:
        # The server claims the proxy may also upload: the owner never signed that.
        response = route.fetch()
        body = response.json()
        body[0]["actions"] = ["upload", "view"]
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/mandates/received", widen)
    menu_link(page, "Proxies").click()
    page.wait_for_url("**/proxy")
    expect(page.locator("main > [data-error]")).to_contain_text("changed on the server")
    assert "Housing file" not in page.content()


def test_proxy_adds_a_paper_for_the_owner(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    owner, ids = owner_with_documents(web_server, tmp_path, ["Old lease"])
    proxy = new_worker(web_server)
    create_mandate(
        owner,
        proxy.account["handle"],
        categories=["housing"],
        actions=["view", "upload"],
        duration="1m",
        purpose="Rent file",
        pins=PinStore(None),
    )
    login(page, proxy.account["handle"])
    menu_link(page, "Proxies").click()
    page.get_by_role("link", name=f"Act for {owner.account['handle']}").click()
    page.wait_for_url("**/proxy/for/*")
    form = page.locator("form[data-add-form]")
    expect(form).to_be_visible()
    # Only the kinds of papers the mandate covers can be chosen.
    assert page.locator("#add-type optgroup").count() == 1
    assert page.locator("#add-type option[value=payslip]").count() == 0
    receipt = tmp_path / "receipt-june.txt"
    receipt.write_text("Rent receipt June, paid", encoding="utf-8")
    form.locator("#add-file").set_input_files(str(receipt))
    form.locator("#add-type").select_option("rent_receipt")
    form.locator("#add-name").fill("Rent receipt June")
    form.get_by_role("button", name="Lock and add it for this person").click()
    expect(form.locator("[data-add-status]")).to_contain_text("Added to the wallet of")
    expect(page.locator("[data-acting-docs]")).to_contain_text("Rent receipt June")
    expect(page.locator("[data-done-list]")).to_contain_text("You added “Rent receipt June”.")
    assert axe_violations(page) == []

    # The owner's own client opens it: sealed to the owner, signed by the proxy, in scope.
    docs = {d.meta["title"]: d for d in owner.list_documents()}
    assert set(docs) == {"Old lease", "Rent receipt June"}
    added = docs["Rent receipt June"]
    assert added.meta["type"] == "rent_receipt" and added.id not in ids
    target = tmp_path / "back.txt"
    owner.download(added.id, target)
    assert target.read_text(encoding="utf-8") == "Rent receipt June, paid"
