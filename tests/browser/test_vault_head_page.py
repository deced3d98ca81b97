"""The owner's signed vault head in Chromium, against a live server whose database an operator
edits directly (as tests/test_server_tampering.py does): each attack is refused by the pages, in
plain words, and nothing is shared.

(a) a revoked grant revived: a new version reaches nobody, and the owner is told;
(b) the current version rolled back and the newest version hidden: the documents page refuses;
(c) a revoked link revived (the operator kept its server share): the link page refuses;
(d) a profile field put back to an older ciphertext (still signed): the profile page refuses;
(e) the head itself put back to an older one this device saw replaced: refused as "rewound";
(f) a revoked mandate revived: the proxy's page refuses to act, the owner's shows it ended.
Plus the digests against tests/vectors/protocol/vault_state.json, and the pins: sealed in
localStorage, never the wallet name in clear.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import PageProblems, harness, login, new_context, screenshot
from tests.browser.conftest import register as register_in_page
from tests.browser.test_inbox import new_worker
from tests.browser.test_kiosk import kiosk_login
from tests.browser.test_sharing_flows import clean, fresh_page, go, upload
from tests.conftest import TEST_PASSPHRASE, LiveServer
from tests.protocol_samples import load
from wallet.client.contacts import PinStore, own_safety_code
from wallet.client.mandates import create_mandate

REWOUND = "The service showed an older state of your wallet than this device has seen."
CHANGED = "The service showed your wallet differently from how you left it"
GRANT_TAKEN_BACK = (
    "The owner took this access back. The service still showed it; nothing was opened."
)
MANDATE_TAKEN_BACK = (
    "The owner took this mandate back. The service still showed it; nothing was opened or done."
)
LINK_TAKEN_BACK = "The owner stopped this link. The service still showed it; nothing was opened."


def sql(server: LiveServer, statement: str, **params: Any) -> list[Any]:
    """One statement on the live server's database, committed, as an operator would run it."""
    engine = create_engine(server.database.url)
    try:
        with engine.begin() as db:
            result = db.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def account_id(server: LiveServer, handle: str) -> str:
    [(found,)] = sql(server, "SELECT id FROM account WHERE handle = :h", h=handle)
    return str(found)


def journal_reasons(server: LiveServer, owner_id: str) -> list[str]:
    rows = sql(
        server,
        "SELECT details FROM journal_entry WHERE owner_id = :a AND event = 'state_refused'",
        a=owner_id,
    )
    return [str(details) for (details,) in rows]


@pytest.fixture
def owner(browser: Browser, web_server: LiveServer) -> Iterator[tuple[Page, str, PageProblems]]:
    context = new_context(browser, web_server)
    page, problems = fresh_page(context)
    handle = f"vh-{secrets.token_hex(4)}"
    register_in_page(page, handle)
    page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
    yield page, handle, problems
    context.close()


def test_digests_match_the_shared_vectors(page: Page, web_server: LiveServer) -> None:
    page.goto("/")
    vector = load()["vault_state.json"]
    got = harness(
        page,
        """
        const h = m.vaulthead;
        return await h.stateDigests({
          documents: arg.documents,
          profile: arg.profile,
          revoked: { grants: arg.revoked_grants, mandates: arg.revoked_mandates, links: arg.revoked_links },
        });
        """,
        vector,
    )
    assert got == vector["digests"]


def test_a_revived_grant_gets_no_key_for_a_new_version_and_the_owner_is_told(
    owner: tuple[Page, str, PageProblems],
    browser: Browser,
    web_server: LiveServer,
    tmp_path: Path,
) -> None:
    page, handle, problems = owner
    doc_id = upload(page, tmp_path / "payslip.pdf", b"%PDF-1.4 march", "payslip", "Payslip")
    grantee = new_worker(web_server)
    go(page, "/share?how=person")
    page.locator('input[name="how"][value="person"]').check()
    page.locator(f"input[name=documents][value='{doc_id}']").check()
    page.locator("#share-purpose").fill("Rent file")
    page.locator("#share-handle").fill(grantee.account["handle"])
    page.get_by_role("button", name="Find").click()
    expect(page.locator("[data-safety-code]")).to_have_text(own_safety_code(grantee))
    page.locator("#share-code-ok").check()
    page.locator("[data-submit]").click()
    expect(page.locator("[data-grant-summary]")).to_contain_text(grantee.account["handle"])
    [(grant_id,)] = sql(
        web_server, 'SELECT id FROM "grant" WHERE owner_id = :o', o=account_id(web_server, handle)
    )

    go(page, "/grants")
    page.locator(f"[data-revoke='{grant_id}']").click()
    expect(page.locator("[data-done]")).to_be_visible()
    expect(page.locator(f"[data-old] li[data-grant-id='{grant_id}']")).to_have_count(1)

    # The operator brings the grant back to life.
    sql(web_server, 'UPDATE "grant" SET revoked_at = NULL WHERE id = :g', g=grant_id)

    # A new version of the payslip: saved for the owner, sealed to nobody else, and said.
    (tmp_path / "payslip-2.pdf").write_bytes(b"%PDF-1.4 april")
    go(page, f"/documents/new?replace={doc_id}")
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    page.locator("#file").set_input_files(str(tmp_path / "payslip-2.pdf"))
    page.locator("[data-submit]").click()
    expect(page.locator("form[data-upload] [data-error]")).to_contain_text(CHANGED)
    assert sql(web_server, "SELECT current_version FROM document WHERE id = :d", d=doc_id) == [(2,)]
    assert sql(web_server, "SELECT count(*) FROM key_wrap WHERE grant_id = :g", g=grant_id) == [
        (0,)
    ]
    listed = grantee.api.api("GET", f"/received/{grant_id}/documents").json()
    assert listed == []
    assert any("changed" in d for d in journal_reasons(web_server, account_id(web_server, handle)))

    # The grantee, in a browser of their own, is refused the grant the server still shows.
    other = new_context(browser, web_server)
    try:
        tab, tab_problems = fresh_page(other)
        login(tab, grantee.account["handle"])
        go(tab, "/received")
        expect(tab.locator("main [data-error]").first).to_have_text(GRANT_TAKEN_BACK)
        expect(tab.locator(f"[data-grant-id='{grant_id}']")).to_have_count(0)
        clean(tab_problems)
    finally:
        other.close()

    # The grants page shows it ended, on the owner's signed word, and says what happened.
    go(page, "/grants")
    expect(page.locator("main")).to_contain_text(CHANGED)
    expect(page.locator(f"[data-old] li[data-grant-id='{grant_id}']")).to_have_count(1)
    expect(page.locator(f"[data-revoke='{grant_id}']")).to_have_count(0)
    clean(problems)


def test_a_rolled_back_document_is_refused(
    owner: tuple[Page, str, PageProblems], web_server: LiveServer, tmp_path: Path
) -> None:
    page, handle, problems = owner
    doc_id = upload(page, tmp_path / "lease.pdf", b"%PDF-1.4 lease v1", "lease", "Lease")
    [before] = sql(
        web_server,
        "SELECT current_size, current_meta_b64, current_wrap_b64, current_manifest_b64,"
        " current_signature_b64 FROM document WHERE id = :d",
        d=doc_id,
    )
    (tmp_path / "lease-2.pdf").write_bytes(b"%PDF-1.4 lease v2, the signed one")
    go(page, f"/documents/new?replace={doc_id}")
    page.locator("main[data-page=upload][data-ready]").wait_for(state="attached")
    page.locator("#file").set_input_files(str(tmp_path / "lease-2.pdf"))
    page.locator("[data-submit]").click()
    page.wait_for_url(f"**/documents/{doc_id}")
    expect(page.locator("[data-versions] li")).to_have_count(2)

    # The operator makes version 1 current again (its own signed columns) and hides version 2.
    sql(
        web_server,
        "UPDATE document SET current_version = 1, current_size = :s, current_meta_b64 = :m,"
        " current_wrap_b64 = :w, current_manifest_b64 = :f, current_signature_b64 = :g"
        " WHERE id = :d",
        s=before[0],
        m=before[1],
        w=before[2],
        f=before[3],
        g=before[4],
        d=doc_id,
    )
    sql(web_server, "DELETE FROM document_version WHERE document_id = :d AND version = 2", d=doc_id)

    go(page, "/documents")
    expect(page.locator("main [data-error]")).to_contain_text(CHANGED)
    expect(page.locator("[data-list] li")).to_have_count(0)
    # The document's own page refuses too (its head_version says 2).
    go(page, f"/documents/{doc_id}")
    expect(page.locator("main [data-error]").first).to_contain_text(CHANGED)
    expect(page.locator("[data-doc]")).to_be_hidden()
    assert journal_reasons(web_server, account_id(web_server, handle))
    clean(problems)


def test_a_revived_link_is_refused_by_the_link_page(
    owner: tuple[Page, str, PageProblems],
    browser: Browser,
    web_server: LiveServer,
    tmp_path: Path,
) -> None:
    page, handle, problems = owner
    upload(page, tmp_path / "id.pdf", b"%PDF-1.4 identity card", "id_card", "Kept card")
    go(page, "/share")
    page.get_by_label(re.compile("Kept card")).check()
    page.locator("#share-purpose").fill("Housing subsidy")
    page.locator("[data-submit]").click()
    expect(page.locator("[data-result] svg.qr")).to_be_visible()
    url = page.locator("[data-url]").input_value()
    link_id = url.split("/s/")[1].split("#")[0]
    # The operator keeps a copy of what the revocation deletes.
    [kept] = sql(
        web_server, "SELECT server_share, sealed_package FROM share_link WHERE id = :l", l=link_id
    )

    go(page, "/links")
    page.locator(f"[data-revoke='{link_id}']").click()
    expect(page.locator(f"[data-old] li[data-link-id='{link_id}']")).to_have_count(1)
    sql(
        web_server,
        "UPDATE share_link SET revoked_at = NULL, server_share = :s, sealed_package = :p"
        " WHERE id = :l",
        s=kept[0],
        p=kept[1],
        l=link_id,
    )

    recipient = new_context(browser, web_server)
    try:
        tab, tab_problems = fresh_page(recipient)
        tab.goto(url)
        expect(tab.locator('[data-fact="owner"]')).to_have_text(handle)
        tab.get_by_role("button", name="Open the documents").click()
        expect(tab.locator("[data-form-error]")).to_have_text(LINK_TAKEN_BACK)
        expect(tab.locator("[data-opened]")).to_be_hidden()
        expect(tab.locator("[data-open-button]")).to_be_hidden()
        clean(tab_problems)
    finally:
        recipient.close()

    # The owner's own links page shows it stopped, and says the server showed it working.
    go(page, "/links")
    expect(page.locator("main")).to_contain_text(CHANGED)
    expect(page.locator(f"[data-old] li[data-link-id='{link_id}']")).to_have_count(1)
    clean(problems)


def test_an_older_profile_value_is_refused(
    owner: tuple[Page, str, PageProblems], web_server: LiveServer
) -> None:
    page, handle, problems = owner
    owner_id = account_id(web_server, handle)
    go(page, "/profile")
    form = page.locator("form[data-profile]")
    expect(form).to_be_visible()
    page.locator("#field-address").fill("Rue Haute 1, 1000 Bruxelles")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-saved]")).to_be_visible()
    slot_rows = sql(
        web_server,
        "SELECT slot, ciphertext, wrapped_key, signature FROM profile_field WHERE account_id = :a",
        a=owner_id,
    )
    go(page, "/documents")
    go(page, "/profile")
    expect(page.locator("#field-address")).to_have_value("Rue Haute 1, 1000 Bruxelles")
    page.locator("#field-address").fill("Rue Neuve 9, 1000 Bruxelles")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-saved]")).to_be_visible()

    # The operator puts the old address back: it is still signed by the owner.
    for slot, ciphertext, wrapped, signature in slot_rows:
        sql(
            web_server,
            "UPDATE profile_field SET ciphertext = :c, wrapped_key = :w, signature = :s"
            " WHERE account_id = :a AND slot = :slot",
            c=ciphertext,
            w=wrapped,
            s=signature,
            a=owner_id,
            slot=slot,
        )
    go(page, "/documents")
    go(page, "/profile")
    expect(page.locator("main [data-error]").first).to_contain_text(CHANGED)
    expect(form).to_be_hidden()
    clean(problems)


def test_an_older_head_is_refused_as_rewound(
    owner: tuple[Page, str, PageProblems], web_server: LiveServer, tmp_path: Path
) -> None:
    page, handle, problems = owner
    owner_id = account_id(web_server, handle)
    upload(page, tmp_path / "a.pdf", b"%PDF-1.4 a", "payslip", "First")
    [old] = sql(
        web_server,
        "SELECT seq, statement, signature, covered FROM vault_head WHERE owner_id = :o",
        o=owner_id,
    )
    upload(page, tmp_path / "b.pdf", b"%PDF-1.4 b", "payslip", "Second")
    [(seq,)] = sql(web_server, "SELECT seq FROM vault_head WHERE owner_id = :o", o=owner_id)
    assert seq == old[0] + 1

    # The pin is sealed: localStorage never holds the wallet name, nor a readable seq.
    stored = page.evaluate("() => localStorage.getItem('wallet-head-pins')")
    assert stored and handle not in stored and '"seq"' not in stored

    # The operator serves the older head (and its covered lists) again.
    sql(
        web_server,
        "UPDATE vault_head SET seq = :q, statement = :s, signature = :g, covered = :c"
        " WHERE owner_id = :o",
        q=old[0],
        s=old[1],
        g=old[2],
        c=old[3],
        o=owner_id,
    )
    # A fresh page (the keys are gone): the login itself refuses, in plain words.
    page.goto("/login")
    page.locator("main[data-page=login][data-ready]").wait_for(state="attached")
    page.locator("#handle").fill(handle)
    page.locator("#passphrase").fill(TEST_PASSPHRASE)
    page.locator("form[data-login] button[type=submit]").click()
    expect(page.locator("form[data-login] [data-error]")).to_contain_text(REWOUND)
    screenshot(page, "vault-head-refused-rewound")
    go(page, "/documents")
    expect(page.locator("main [data-error]")).to_contain_text(REWOUND)
    expect(page.locator("[data-list] li")).to_have_count(0)
    page.screenshot(path=str(screenshot(page, "vault-head-refused-documents")), full_page=False)
    assert any("rewound" in d for d in journal_reasons(web_server, owner_id))
    # The journal page still reads, and says it in a sentence.
    go(page, "/journal")
    expect(page.locator("[data-entries]")).to_contain_text(
        "This device refused your wallet as the service showed it"
    )
    clean(problems)


def test_a_kiosk_keeps_the_pin_in_memory_only(browser: Browser, web_server: LiveServer) -> None:
    """On a public computer the head is checked and pinned for the session, never stored."""
    person = new_worker(web_server)
    handle = person.account["handle"]
    context: BrowserContext = new_context(browser, web_server)
    try:
        page, problems = fresh_page(context)
        page.goto("/kiosk?idle=600")
        kiosk_login(page, handle)
        page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
        # The page made the account's first head (the Python account had none) ...
        owner_id = account_id(web_server, handle)
        assert sql(web_server, "SELECT seq FROM vault_head WHERE owner_id = :o", o=owner_id) == [
            (1,)
        ]
        # ... and this browser keeps nothing of it.
        assert page.evaluate("() => localStorage.length") == 0
        clean(problems)
    finally:
        context.close()


def test_a_revived_mandate_is_refused_to_the_proxy_and_shown_ended_to_the_owner(
    browser: Browser, web_server: LiveServer
) -> None:
    owner_vault = new_worker(web_server)
    proxy_vault = new_worker(web_server)
    mandate = create_mandate(
        owner_vault,
        proxy_vault.account["handle"],
        categories=["housing"],
        actions=["view", "upload"],
        duration="1m",
        purpose="Rent file at the CPAS",
        pins=PinStore(None),
    )
    owner_context = new_context(browser, web_server)
    proxy_context = new_context(browser, web_server)
    try:
        page, problems = fresh_page(owner_context)
        login(page, owner_vault.account["handle"])
        go(page, "/proxy")
        card = page.locator(f"[data-mandate='{mandate.id}']")
        card.locator("button.danger").click()
        expect(card.locator(".state.revoked")).to_be_visible()

        # The operator brings the mandate back to life.
        sql(web_server, "UPDATE mandate SET revoked_at = NULL WHERE id = :m", m=mandate.id)

        tab, tab_problems = fresh_page(proxy_context)
        login(tab, proxy_vault.account["handle"])
        go(tab, f"/proxy/for/{mandate.id}")
        expect(tab.locator("main [data-error]").first).to_have_text(MANDATE_TAKEN_BACK)
        expect(tab.locator("[data-acting]")).to_be_hidden()
        expect(tab.locator("[data-proxy-banner]")).to_have_count(0)
        clean(tab_problems)

        # The owner's page shows it ended, on the owner's signed word, and says what happened.
        go(page, "/documents")
        go(page, "/proxy")
        expect(page.locator("main")).to_contain_text(CHANGED)
        expect(card.locator(".state.revoked")).to_be_visible()
        expect(card.locator("button.danger")).to_have_count(0)
        clean(problems)
    finally:
        proxy_context.close()
        owner_context.close()
