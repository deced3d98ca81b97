"""Security property 1 once mandates, organisation grants, requests and notes exist.

Every purpose, title, note, reason and message below carries a canary. After the whole story
(a proxy adds a document and makes a link, an organisation reads through a grant and rotates its
team key, a worker asks for documents and writes a note, the owner answers), the database and
the blob store are scanned for the canary and for every participant's secrets: zero hits.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.conftest import WalletApp
from tests.test_zero_knowledge import blob_contents, database_contents, hits
from wallet.client import Vault
from wallet.client import grants as grantlib
from wallet.client import links as linklib
from wallet.client import mandates as mandatelib
from wallet.client import notes as notelib
from wallet.client import organisations as orglib
from wallet.client import requests as requestlib
from wallet.client.contacts import PinStore


def private_bytes(vault: Vault) -> list[bytes]:
    raw_x25519 = vault.keys.encryption_key.private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    return [raw_x25519, bytes(vault.keys.signing_key), vault.keys.vault_secret]


def test_no_content_after_mandates_org_grants_requests_and_notes(
    any_store_app: WalletApp, tmp_path: Path
) -> None:
    app = any_store_app
    canary = "CANARY-" + secrets.token_hex(12)
    tag = secrets.token_hex(3)
    passphrases = {name: f"{canary}-{name} passphrase" for name in ("owner", "proxy", "admin")}
    passphrases["member"] = f"{canary}-member passphrase"
    passphrases["gone"] = f"{canary}-gone passphrase"
    vaults = {
        name: Vault.create_account(app.api(), f"{name}-{tag}", passphrase)[0]
        for name, passphrase in passphrases.items()
    }
    owner, proxy, admin = vaults["owner"], vaults["proxy"], vaults["admin"]
    pins = {name: PinStore(tmp_path / f"pins-{name}.json") for name in vaults}

    source = tmp_path / "scan.pdf"
    source.write_bytes(b"%PDF-1.4\n" + f"Payslip of {canary}\n".encode() * 500)
    payslip, _ = owner.upload(source, "payslip", f"Payslip {canary}", issuer=f"Boss {canary}")
    lease, _ = owner.upload(source, "lease", f"Lease {canary}")
    owner.set_profile_field("address", f"Street {canary}")

    # A mandate: the proxy adds a document for the owner and makes a one-shot link.
    mandate = mandatelib.create_mandate(
        owner,
        proxy.account["handle"],
        categories=["work", "housing"],
        actions=["view", "upload", "share"],
        duration="1m",
        purpose=f"Housing subsidy {canary}",
        pins=pins["owner"],
    )
    acting = mandatelib.ProxyVault.open(proxy, owner.account["handle"], pins["proxy"])
    acting.upload(source, "lease", f"Lease added by proxy {canary}")
    link = linklib.create_link(acting, [payslip], purpose=f"Link purpose {canary}")
    assert link.url

    # An organisation: the owner grants to its team; a member reads; then one is removed.
    org = orglib.create_org(admin, "CPAS Example")
    for name in ("member", "gone"):
        orglib.add_member(admin, org.handle, vaults[name].account["handle"], pins=pins["admin"])
    org_grant = grantlib.create_org_grant(
        owner,
        org.handle,
        purpose=f"Social inquiry {canary}",
        document_ids=[payslip],
        fields=["address"],
        pins=pins["owner"],
    )
    orglib.remove_member(admin, org.handle, vaults["gone"].account["handle"], pins=pins["admin"])
    member_view = grantlib.received(vaults["member"], pins["member"])
    assert any(g["id"] == org_grant.id for g in member_view)

    # A request from the admin (a worker), answered by the owner, and notes on both sides.
    request = requestlib.create_request(
        admin,
        owner.account["handle"],
        types=["payslip", "lease", "id_card"],
        purpose=f"Inquiry {canary}",
        message=f"Message {canary}",
        pins=pins["admin"],
    )
    fulfilled = requestlib.fulfil(
        owner,
        request.id,
        document_ids=[payslip, lease],
        reason=f"No id card {canary}",
        pins=pins["owner"],
    )
    notelib.add_note(
        owner, f"Note by owner {canary}", persons=[f"Anna {canary}"], pins=pins["owner"]
    )
    notelib.add_note(
        admin,
        f"Note by worker {canary}",
        grant_id=fulfilled.grant_id,
        actions=f"Decided {canary}",
        pins=pins["admin"],
    )
    # The parties themselves still read it all.
    contents = [n["content"] for n in notelib.list_notes(owner, pins["owner"])]
    assert f"Note by worker {canary}" in contents and f"Note by owner {canary}" in contents
    assert [m for m in mandatelib.mandates_given(owner) if m["id"] == mandate.id]

    stored = database_contents(app, tmp_path) + blob_contents(app)
    assert hits(stored, owner.account["handle"]), "positive control: handles are stored in clear"
    assert hits(stored, "CPAS Example"), "positive control: organisation names are public"
    assert hits(stored, canary) == []
    assert hits(stored, canary.lower()) == [] and hits(stored, canary.upper()) == []
    for passphrase in passphrases.values():
        assert hits(stored, passphrase) == []
    for vault in vaults.values():
        for secret in private_bytes(vault):
            assert hits(stored, secret) == []
    team = orglib.team_key(admin, org.handle, pins["admin"])
    team_private = team.encryption_key.private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    assert hits(stored, team_private) == []
    link_secret = link.url.split("#", 1)[1]
    assert hits(stored, link_secret) == []
    for document_id in (payslip, lease):
        for version in owner.versions(document_id):
            assert hits(stored, str(version.identity)) == []
