"""The link page /s/<id>#<secret> in Chromium, for someone with no account.

Links are made by the real `wallet` command (interop Python -> browser). The page previews
without using the link, asks for a PIN when needed, opens the documents on request, and says
plainly when a link is used, expired or stopped. The secret after # never leaves the browser.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import (
    DESKTOP,
    PageProblems,
    axe_violations,
    new_context,
    screenshot,
)
from tests.conftest import TEST_PASSPHRASE, LiveServer, run_cli
from tests.test_link_sender import Impostor
from wallet.client import Vault
from wallet.client.api import ApiClient
from wallet.client.links import create_link, parse_link
from wallet.crypto.encoding import b64e

LINK_URL = re.compile(r"http://\S+/s/[0-9a-f]{32}#[A-Za-z0-9_-]{43}")


@pytest.fixture
def cli(web_server: LiveServer, tmp_path: Path) -> dict[str, str]:
    """The `wallet` command of an owner, against the browser tests' server."""
    env = {
        **os.environ,
        "WALLET_SERVER": web_server.url,
        "WALLET_HOME": str(tmp_path / "home"),
        "WALLET_PASSPHRASE": TEST_PASSPHRASE,
    }
    run_cli(env, "account", "create", "--handle", f"ana-{secrets.token_hex(3)}")
    return env


def cli_upload(env: dict[str, str], path: Path, data: bytes, title: str, kind: str) -> str:
    path.write_bytes(data)
    out = run_cli(env, "upload", str(path), "--type", kind, "--title", title).stdout
    return re.search(r"[0-9a-f]{32}", out).group(0)  # type: ignore[union-attr]


def cli_link(env: dict[str, str], *args: str) -> str:
    out = run_cli(env, "share", "create", *args).stdout
    return LINK_URL.search(out).group(0)  # type: ignore[union-attr]


class Recorder:
    """Every request the page makes: URL, headers and body, to look for the secret."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def attach(self, target: Page | BrowserContext) -> None:
        target.on("request", lambda request: self.requests.append(request))

    def everything(self) -> str:
        parts = []
        for request in self.requests:
            parts.append(request.url)
            parts.extend(f"{k}: {v}" for k, v in request.all_headers().items())
            body = request.post_data_buffer
            if body:
                parts.append(body.decode("latin-1"))
        return "\n".join(parts)


def open_page(context: BrowserContext, url: str) -> tuple[Page, Recorder, PageProblems]:
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    recorder = Recorder()
    recorder.attach(page)
    page.goto(url)
    return page, recorder, problems


def no_unexpected(problems: PageProblems) -> None:
    unexpected = [e for e in problems.errors if "Failed to load resource" not in e]
    assert not unexpected, "\n".join(unexpected)


def uses_left(env: dict[str, str], url: str) -> dict[str, Any]:
    rows = run_cli(env, "share", "ls", "--json").stdout
    import json

    link_id = parse_link(url).link_id
    [row] = [r for r in json.loads(rows) if r["id"] == link_id]
    return row


def test_a_cli_link_opens_in_chromium_once_and_the_secret_stays_in_the_browser(
    cli: dict[str, str], context: BrowserContext, web_server: LiveServer, tmp_path: Path
) -> None:
    payslip = b"%PDF-1.4\n" + secrets.token_bytes(40_000)
    photo = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(5000)
    cli_upload(cli, tmp_path / "payslip-march.pdf", payslip, "Payslip March", "payslip")
    cli_upload(cli, tmp_path / "lease.png", photo, "Lease", "lease")
    url = cli_link(cli, "--types", "payslip,lease", "--purpose", "Housing subsidy", "--uses", "1")
    secret_text = url.split("#", 1)[1]

    page, recorder, problems = open_page(context, url)
    # Before anything is used: who, for what, how many, until when.
    expect(page.locator('[data-fact="purpose"]')).to_have_text("Housing subsidy")
    expect(page.locator('[data-fact="owner"]')).to_contain_text("ana-")
    expect(page.locator('[data-fact="documents"]')).to_contain_text("2")
    expect(page.locator('[data-fact="expires"]')).not_to_be_empty()
    assert page.locator("[data-pin-field]").is_hidden()
    for _ in range(3):
        page.reload()
        expect(page.locator('[data-fact="purpose"]')).to_have_text("Housing subsidy")
    row = uses_left(cli, url)
    assert (row["state"], row["uses_left"]) == ("active", 1)  # looking used nothing
    assert axe_violations(page) == []
    screenshot(page, "link-preview")

    with page.expect_response(re.compile(r"/redeem$")):
        page.get_by_role("button", name="Open the documents").click()
    files = page.locator("[data-files] li")
    expect(files).to_have_count(2)
    expect(page.locator("[data-files] li[data-ready]")).to_have_count(2)
    expect(page.locator("h1")).to_contain_text("Housing subsidy")
    assert uses_left(cli, url)["uses_left"] == 0

    # Saving gives the very bytes the owner uploaded.
    pdf_row = page.locator("[data-files] li", has_text="Payslip March")
    with page.expect_download() as caught:
        pdf_row.locator("[data-save]").click()
    saved = Path(caught.value.path()).read_bytes()
    assert hashlib.sha256(saved).digest() == hashlib.sha256(payslip).digest()
    assert caught.value.suggested_filename == "payslip-march.pdf"
    page.locator("[data-files] li", has_text="Lease").locator("[data-view]").click()
    expect(page.locator("[data-viewer] img")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "link-opened")

    # The secret after # never reached the server: not in a URL, a header or a body.
    everything = recorder.everything()
    assert recorder.requests and "/api/v1/links/" in everything
    assert secret_text not in everything
    assert parse_link(url).secret.hex() not in everything
    for request in recorder.requests:
        # no-referrer: the page's address is never sent along (an empty header at most)
        assert not request.all_headers().get("referer"), request.url
    no_unexpected(problems)

    # A second browser: the link is used, and the page says so plainly before any button.
    other = new_context(context.browser, web_server)  # type: ignore[arg-type]
    try:
        again, _rec, problems2 = open_page(other, url)
        expect(again.locator("[data-dead]")).to_contain_text("already used")
        assert again.locator("form[data-open]").is_hidden()
        # A dead link names nobody: no owner, purpose or safety code on the page.
        assert again.locator(".link-facts").is_hidden()
        assert again.locator("[data-safety-hint]").is_hidden()
        assert again.locator('[data-fact="owner"]').text_content() == ""
        no_unexpected(problems2)
    finally:
        other.close()


def test_a_pin_link_asks_for_the_pin_and_counts_wrong_ones(
    cli: dict[str, str], context: BrowserContext, tmp_path: Path
) -> None:
    cli_upload(cli, tmp_path / "id.pdf", b"%PDF-1.4 id card", "Identity card", "id_card")
    url = cli_link(cli, "--types", "id_card", "--pin", "4821", "--purpose", "CPAS file")
    page, _recorder, problems = open_page(context, url)
    expect(page.locator("[data-pin-field]")).to_be_visible()
    page.locator("#link-pin").fill("12")
    page.get_by_role("button", name="Open the documents").click()
    expect(page.locator("[data-form-error]")).to_contain_text("4 to 8 digits")
    page.locator("#link-pin").fill("1111")
    page.get_by_role("button", name="Open the documents").click()
    expect(page.locator("[data-form-error]")).to_contain_text("4 tries left")
    assert uses_left(cli, url)["uses_left"] == 1
    page.locator("#link-pin").fill("4821")
    page.get_by_role("button", name="Open the documents").click()
    expect(page.locator("[data-files] li[data-ready]")).to_have_count(1)
    no_unexpected(problems)


def test_revoked_unknown_and_incomplete_links_say_so_plainly(
    cli: dict[str, str], context: BrowserContext, tmp_path: Path, web_server: LiveServer
) -> None:
    cli_upload(cli, tmp_path / "a.pdf", b"%PDF-1.4 a", "Paper", "other")
    url = cli_link(cli, "--types", "other")
    run_cli(cli, "share", "revoke", parse_link(url).link_id)
    page, _recorder, problems = open_page(context, url)
    expect(page.locator("[data-dead]")).to_contain_text("stopped sharing")
    assert page.locator(".link-facts").is_hidden()
    assert page.locator('[data-fact="purpose"]').text_content() == ""

    page.goto(url.split("#")[0] + "#" + "A" * 43)  # a wrong secret: the same as unknown
    page.reload()
    expect(page.locator("[data-error]")).to_contain_text("does not work")
    page.goto(f"/s/{secrets.token_hex(16)}")
    expect(page.locator("[data-nolink]")).to_be_visible()
    no_unexpected(problems)


def test_the_link_page_reads_the_same_for_every_id_and_opens_by_keyboard(
    cli: dict[str, str], browser: Any, web_server: LiveServer, tmp_path: Path
) -> None:
    cli_upload(cli, tmp_path / "b.pdf", b"%PDF-1.4 b", "Bank statement", "bank_statement")
    url = cli_link(cli, "--types", "bank_statement", "--purpose", "Rent")
    api = ApiClient(web_server.url)
    real = api.http.get(url.split("#")[0], headers={"Accept": "text/html"})
    unknown = api.http.get(f"/s/{secrets.token_hex(16)}", headers={"Accept": "text/html"})
    assert real.status_code == unknown.status_code == 200
    assert real.text == unknown.text
    assert parse_link(url).link_id not in real.text
    assert real.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in real.headers["content-security-policy"]
    assert "unsafe-inline" not in real.headers["content-security-policy"]
    assert "<script>" not in real.text  # no inline script

    context = new_context(browser, web_server, viewport=DESKTOP, locale="fr-BE")
    try:
        page, _recorder, problems = open_page(context, url)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator('[data-fact="purpose"]')).to_have_text("Rent")
        # Keyboard only: Tab to the button and press Enter.
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement?.dataset?.openButton !== undefined"):
                break
        page.keyboard.press("Enter")
        expect(page.locator("[data-files] li[data-ready]")).to_have_count(1)
        assert axe_violations(page) == []
        screenshot(page, "link-opened-fr")
        no_unexpected(problems)
    finally:
        context.close()


# --- who sent it --------------------------------------------------------------------------------


def set_link_creator(server: LiveServer, link_id: str, creator_id: str) -> None:
    engine = create_engine(server.database.url)
    with engine.begin() as db:
        db.execute(
            text("UPDATE share_link SET creator_id = :c WHERE id = :id"),
            {"c": creator_id, "id": link_id},
        )
    engine.dispose()


def account_id(server: LiveServer, handle: str) -> str:
    engine = create_engine(server.database.url)
    with engine.connect() as db:
        found = db.execute(text("SELECT id FROM account WHERE handle = :h"), {"h": handle})
        value = str(found.scalar_one())
    engine.dispose()
    return value


def assert_not_verified(context: BrowserContext, url: str) -> None:
    """The page says so plainly, shows no 'Shared by' and offers nothing to open."""
    page, recorder, problems = open_page(context, url)
    expect(page.locator("[data-error]")).to_contain_text("Sender not verified")
    expect(page.locator("[data-error]")).to_contain_text("not used up")
    assert page.locator("[data-preview]").is_hidden()
    assert page.get_by_role("button", name="Open the documents").count() == 0 or (
        page.get_by_role("button", name="Open the documents").is_hidden()
    )
    assert not [r for r in recorder.requests if r.url.endswith("/redeem")]
    assert axe_violations(page) == []
    no_unexpected(problems)
    page.close()


def test_a_link_that_names_another_account_says_sender_not_verified_and_uses_nothing(
    context: BrowserContext, web_server: LiveServer, tmp_path: Path
) -> None:
    """Account A makes links 'from' account B (a real account), with the client's own
    building blocks: B's handle and key, or B's handle with A's key."""
    victim_env = {
        **os.environ,
        "WALLET_SERVER": web_server.url,
        "WALLET_HOME": str(tmp_path / "victim"),
        "WALLET_PASSPHRASE": TEST_PASSPHRASE,
    }
    victim = f"cpas-{secrets.token_hex(3)}"
    run_cli(victim_env, "account", "create", "--handle", victim)
    attacker, _recovery = Vault.create_account(
        ApiClient(web_server.url), f"mallory-{secrets.token_hex(3)}", TEST_PASSPHRASE
    )
    (tmp_path / "invoice.pdf").write_bytes(b"%PDF-1.4 pay to IBAN XX00")
    document_id, _version = attacker.upload(tmp_path / "invoice.pdf", "other", "Invoice")
    victim_key = attacker.api.api("GET", f"/people/{victim}").json()["public_signing_key"]
    for signing_key in (victim_key, b64e(attacker.keys.public_signing_key)):
        owner = {"handle": victim, "signing_key": signing_key}
        link = create_link(Impostor(attacker, owner), [document_id], uses=1)
        assert_not_verified(context, link.url)
        [row] = [r for r in attacker.api.api("GET", "/links").json() if r["id"] == link.id]
        assert row["uses_left"] == 1


def test_an_operator_who_changes_the_links_creator_is_refused_and_the_honest_link_shows_the_code(
    cli: dict[str, str], context: BrowserContext, web_server: LiveServer, tmp_path: Path
) -> None:
    other_env = {**cli, "WALLET_HOME": str(tmp_path / "other")}
    other = f"cpas-{secrets.token_hex(3)}"
    run_cli(other_env, "account", "create", "--handle", other)
    cli_upload(cli, tmp_path / "lease.pdf", b"%PDF-1.4 lease", "Lease", "lease")
    url = cli_link(cli, "--types", "lease", "--purpose", "Housing")
    link_id = parse_link(url).link_id
    owner = run_cli(cli, "share", "check", url).stdout.split("Shared by ")[1].split(":")[0]

    set_link_creator(web_server, link_id, account_id(web_server, other))
    assert_not_verified(context, url)
    assert uses_left(cli, url)["uses_left"] == 1

    set_link_creator(web_server, link_id, account_id(web_server, owner))
    code = run_cli(cli, "account", "safety-code").stdout.strip()
    page, _recorder, problems = open_page(context, url)
    expect(page.locator('[data-fact="owner"]')).to_have_text(owner)
    expect(page.locator('[data-fact="safety-code"]')).to_have_text(code)
    expect(page.locator("[data-safety-hint]")).to_contain_text("wallet account safety-code")
    assert axe_violations(page) == []
    screenshot(page, "link-preview-safety-code")
    page.get_by_role("button", name="Open the documents").click()
    expect(page.locator("[data-files] li[data-ready]")).to_have_count(1, timeout=30_000)
    expect(page.locator("h1")).to_contain_text(owner)
    assert uses_left(cli, url)["uses_left"] == 0
    no_unexpected(problems)
