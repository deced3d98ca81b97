"""Documents a trusted person added under a mandate, seen by the owner in Chromium.

Their manifest is signed by the proxy's key (the one the owner signed into the mandate), not the
owner's: the owner's pages accept it exactly like the Python client does (`_mandate_signer`),
say who added it, and refuse a manifest that names the mandate but is signed by another key.
A grant made in the browser over such a document names the manifest's hash, so the Python
grantee trusts it on the owner's word.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import select

from tests.browser.conftest import axe_violations, login, screenshot
from tests.browser.test_inbox import new_worker
from tests.browser.test_sharing_flows import go
from tests.conftest import LiveServer
from tests.test_grants import database
from wallet.client import Vault
from wallet.client import grants as grantlib
from wallet.client.contacts import PinStore, own_safety_code
from wallet.client.mandates import ProxyVault, create_mandate
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import sign
from wallet.documents.models import Document, DocumentVersion


def owner_with_proxy_document(server: LiveServer, tmp: Path, title: str) -> tuple:
    """An owner (Python, real HTTP) with one paper of their own, a mandate with "upload" to a
    proxy, and a paper the proxy added on the owner's behalf."""
    owner = new_worker(server)
    own = tmp / "own.txt"
    own.write_text(f"{title} own paper", encoding="utf-8")
    own_id, _ = owner.upload(own, "lease", f"Own-{title}", media_type="text/plain")
    proxy = new_worker(server)
    mandate = create_mandate(
        owner,
        proxy.account["handle"],
        categories=["housing"],
        actions=["view", "upload"],
        duration="1m",
        purpose="Rent file at the CPAS",
        pins=PinStore(None),
    )
    content = f"%PDF-1.4 receipt {secrets.token_hex(16)}".encode()
    receipt = tmp / "receipt.pdf"
    receipt.write_bytes(content)
    acting = ProxyVault.open(proxy, owner.account["handle"], PinStore(None))
    added, _ = acting.upload(receipt, "rent_receipt", title, media_type="application/pdf")
    return owner, proxy, mandate, own_id, added, content


def test_owner_sees_a_document_a_proxy_added_and_shares_it_with_python(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    title = f"Receipt-{secrets.token_hex(3)}"
    owner, proxy, _mandate, own_id, added, content = owner_with_proxy_document(
        web_server, tmp_path, title
    )
    proxy_handle = proxy.account["handle"]
    login(page, owner.account["handle"])

    # The list accepts the proxy's signature and says who added it; the owner's own paper not.
    row = page.locator(f"[data-list] li[data-id='{added}']")
    expect(row).to_contain_text(title)
    expect(row.locator("[data-added-by]")).to_have_text(f"Added by {proxy_handle} on your behalf")
    expect(page.locator(f"[data-list] li[data-id='{own_id}'] [data-added-by]")).to_have_count(0)
    expect(page.locator("main [data-error]")).to_be_hidden()
    assert axe_violations(page) == []
    screenshot(page, "documents-added-by-proxy")

    # The document page says it too, and opens the exact bytes the proxy sent.
    row.locator("a").click()
    page.wait_for_url(f"**/documents/{added}")
    page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
    expect(page.locator("[data-added-by]")).to_have_text(f"Added by {proxy_handle} on your behalf")
    with page.expect_download() as caught:
        page.locator("[data-download]").click()
    assert Path(caught.value.path()).read_bytes() == content
    assert axe_violations(page) == []
    screenshot(page, "document-added-by-proxy")

    # In French, the same words.
    page.locator("#language-select").select_option("fr")
    page.locator("form[data-language] button[type=submit]").click()
    expect(page.locator("[data-added-by]")).to_have_text(f"Ajouté par {proxy_handle} en votre nom")
    page.locator("#language-select").select_option("en")
    page.locator("form[data-language] button[type=submit]").click()
    expect(page.locator("[data-added-by]")).to_have_text(f"Added by {proxy_handle} on your behalf")

    # A standing grant made in the browser covers it; the Python grantee reads it.
    grantee = new_worker(web_server)
    go(page, "/share?how=person")
    page.locator('input[name="how"][value="person"]').check()
    page.locator(f"input[name=documents][value='{added}']").check()
    page.locator("#share-purpose").fill("Rent file")
    page.locator("#share-handle").fill(grantee.account["handle"])
    page.get_by_role("button", name="Find").click()
    expect(page.locator("[data-safety-code]")).to_have_text(own_safety_code(grantee))
    page.locator("#share-code-ok").check()
    page.locator("[data-submit]").click()
    expect(page.locator("[data-grant-summary]")).to_contain_text(grantee.account["handle"])

    [grant] = grantlib.received(grantee, PinStore(None))
    [doc] = grantlib.received_documents(
        grantee, grant["id"], b64d(grant["owner"]["public_signing_key"])
    )
    assert doc.document_id == added
    grantlib.received_get(grantee, grant["id"], doc, tmp_path / "copy.pdf")
    assert (tmp_path / "copy.pdf").read_bytes() == content
    # The owner's statement vouches for the proxy-signed manifest exactly as served.
    with database(web_server.database.url) as db:
        served = db.exec(select(Document).where(Document.id == added)).first()
        assert served is not None
        manifest_bytes = b64d(served.current_manifest_b64)
    assert json.loads(manifest_bytes)["mandate_id"]
    [item] = grantee.api.api("GET", f"/received/{grant['id']}/documents").json()
    statement = json.loads(b64d(item["statement"]))
    assert statement["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def resign(server: LiveServer, document_id: str, signing_key: bytes, **changes: str) -> None:
    """The operator (or a thief) rewrites a document's manifest and signature in the database."""
    with database(server.database.url) as db:
        document = db.exec(select(Document).where(Document.id == document_id)).first()
        assert document is not None
        manifest = json.loads(base64.urlsafe_b64decode(document.current_manifest_b64 + "=="))
        forged, signature = sign(signing_key, {**manifest, **changes})
        document.current_manifest_b64 = b64e(forged)
        document.current_signature_b64 = b64e(signature)
        db.add(document)
        for version in db.exec(
            select(DocumentVersion).where(DocumentVersion.document_id == document_id)
        ):
            version.manifest = forged
            version.signature = signature
            db.add(version)
        db.commit()


def expect_refused(page: Page, document_id: str) -> None:
    error = page.locator("main [data-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("added by someone you gave a proxy to")
    expect(error).to_contain_text("Do not trust it")
    expect(page.locator("[data-list] li")).to_have_count(0)
    go(page, f"/documents/{document_id}")
    page.locator("main[data-page=document][data-ready]").wait_for(state="attached")
    expect(page.locator("main [data-error]")).to_contain_text("Do not trust it")
    expect(page.locator("[data-doc]")).to_be_hidden()


def test_a_manifest_claiming_the_mandate_but_not_signed_by_its_proxy_in_time_is_refused(
    page: Page, web_server: LiveServer, tmp_path: Path
) -> None:
    """A server cannot pass off a document of its own as "added by your proxy"."""
    title = f"Forged-{secrets.token_hex(3)}"
    owner, proxy, mandate, _own_id, added, _content = owner_with_proxy_document(
        web_server, tmp_path, title
    )
    stranger: Vault = new_worker(web_server)

    # Signed by another key than the proxy's the owner signed into the mandate.
    resign(web_server, added, stranger.keys.signing_key)
    login(page, owner.account["handle"])
    expect_refused(page, added)
    screenshot(page, "document-forged-proxy")

    # The proxy's own key, but signed after the mandate's signed end: refused as well.
    late = iso(mandate.expires_at + timedelta(seconds=1))
    resign(web_server, added, proxy.keys.signing_key, signed_at=late)
    go(page, "/documents")
    page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
    expect_refused(page, added)

    # Control: the proxy's key within the mandate is accepted again (the checks above can pass).
    resign(web_server, added, proxy.keys.signing_key, signed_at=iso(datetime.now(UTC)))
    go(page, "/documents")
    page.locator("main[data-page=documents][data-ready]").wait_for(state="attached")
    expect(page.locator(f"[data-list] li[data-id='{added}'] [data-added-by]")).to_be_visible()
    expect(page.locator("main [data-error]")).to_be_hidden()
