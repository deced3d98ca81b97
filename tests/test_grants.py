"""Standing grants: scoped access for another account that keeps up with new documents, ends at
once on revoke or expiry, and never tells a stranger that a grant exists (security properties 3
and 4). Keys are pinned: a server that swaps a person's key is caught."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from sharing.grants.models import Grant, GrantFieldWrap
from tests.conftest import WalletApp
from tests.test_zero_knowledge import blob_contents, database_contents, hits
from wallet.accounts.models import Account
from wallet.client import Vault
from wallet.client.api import ApiError
from wallet.client.contacts import KeyChanged, PinStore, own_safety_code
from wallet.client.grants import (
    CreatedGrant,
    create_grant,
    grants_given,
    received,
    received_documents,
    received_get,
    received_profile,
    revoke_grant,
)
from wallet.client.vault import IntegrityFailure, VaultError
from wallet.crypto.encoding import b64d
from wallet.crypto.keys import AccountKeys
from wallet.db import make_engine, utcnow
from wallet.documents.models import KeyWrap

# --- helpers shared with the other sharing tests -------------------------------------------


@contextlib.contextmanager
def database(url: str) -> Iterator[Session]:
    """A direct session on the service's database, as an operator (or a thief) would have."""
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def unknown_id() -> str:
    return secrets.token_hex(16)


def write_file(path: Path, text: str, size: int = 3000) -> Path:
    path.write_bytes(b"%PDF-1.4\n" + text.encode() + b"\n" + secrets.token_bytes(size))
    return path


def swap_account_keys(url: str, handle: str) -> AccountKeys:
    """What a malicious server would do: serve another key pair for a person."""
    other = AccountKeys.generate()
    with database(url) as db:
        account = db.exec(select(Account).where(Account.handle == handle)).one()
        account.public_encryption_key = other.public_encryption_key
        account.public_signing_key = other.public_signing_key
        account.key_id = other.key_id
        db.add(account)
        db.commit()
    return other


def grantee_requests(grant_id: str, document_id: str, version: int = 1) -> list[str]:
    """The four things a grantee can ask for under a grant."""
    return [
        f"/api/v1/received/{grant_id}/documents",
        f"/api/v1/received/{grant_id}/profile",
        f"/api/v1/received/{grant_id}/documents/{document_id}/versions/{version}/blob",
        f"/api/v1/received/{grant_id}/documents/{unknown_id()}/versions/1/blob",
    ]


def get(http: httpx.Client, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(path, headers=headers)


def assert_same_as_unknown_grant(
    http: httpx.Client, token: str, grant_id: str, document_id: str
) -> None:
    """Every request under this grant answers exactly like a grant id that never existed."""
    fake = unknown_id()
    for real_path, fake_path in zip(
        grantee_requests(grant_id, document_id),
        grantee_requests(fake, document_id),
        strict=True,
    ):
        real = get(http, real_path, token)
        twin = get(http, fake_path, token)
        assert real.status_code == 404, (real_path, real.status_code, real.text)
        assert twin.status_code == 404, (fake_path, twin.status_code, twin.text)
        assert real.json() == twin.json(), real_path
        assert real.headers.get("content-type") == twin.headers.get("content-type")


def wrap_counts(url: str, grant_id: str) -> tuple[int, int]:
    with database(url) as db:
        documents = db.exec(
            select(func.count()).select_from(KeyWrap).where(KeyWrap.grant_id == grant_id)
        ).one()
        fields = db.exec(
            select(func.count())
            .select_from(GrantFieldWrap)
            .where(GrantFieldWrap.grant_id == grant_id)
        ).one()
    return documents, fields


@dataclass
class Granted:
    app: WalletApp
    owner: Vault
    worker: Vault
    grant: CreatedGrant
    payslip_id: str
    lease_id: str
    bank_id: str
    files: dict[str, bytes]
    owner_pins: PinStore
    worker_pins: PinStore
    tmp: Path

    @property
    def owner_signing_key(self) -> bytes:
        return self.owner.keys.public_signing_key

    def worker_documents(self) -> dict[str, object]:
        return {
            d.document_id: d
            for d in received_documents(self.worker, self.grant.id, self.owner_signing_key)
        }

    def fetch(self, document_id: str) -> bytes:
        target = self.tmp / f"got-{secrets.token_hex(4)}"
        received_get(self.worker, self.grant.id, self.worker_documents()[document_id], target)
        return target.read_bytes()


def make_granted(app: WalletApp, tmp: Path, purpose: str = "Housing subsidy file") -> Granted:
    owner = app.new_vault()
    worker = app.new_vault()
    payslip = write_file(tmp / "payslip-march.pdf", "payslip march")
    lease = write_file(tmp / "lease.pdf", "lease")
    bank = write_file(tmp / "bank.pdf", "bank statement")
    payslip_id, _ = owner.upload(payslip, "payslip", "Payslip March")
    lease_id, _ = owner.upload(lease, "lease", "Lease 2026")
    bank_id, _ = owner.upload(bank, "bank_statement", "Bank statement May")
    files = {payslip_id: payslip.read_bytes(), lease_id: lease.read_bytes()}
    owner.set_profile_field("address", "Rue Haute 1, 1000 Brussels")
    owner.set_profile_field("national_number", "85.07.30-033.61")
    owner_pins = PinStore(tmp / "owner-pins.json")
    grant = create_grant(
        owner,
        worker.account["handle"],
        purpose=purpose,
        document_ids=[lease_id],
        types=["payslip"],
        fields=["address", "employer"],  # employer is not filled in yet
        pins=owner_pins,
    )
    return Granted(
        app,
        owner,
        worker,
        grant,
        payslip_id,
        lease_id,
        bank_id,
        files,
        owner_pins,
        PinStore(tmp / "worker-pins.json"),
        tmp,
    )


@pytest.fixture
def granted(wallet_app: WalletApp, tmp_path: Path) -> Granted:
    return make_granted(wallet_app, tmp_path)


# --- the grantee sees exactly what was granted ---------------------------------------------


def test_worker_reads_exactly_what_was_granted(granted: Granted) -> None:
    g = granted
    assert g.grant.documents == 2 and g.grant.first_contact

    [item] = received(g.worker, g.worker_pins)
    assert item["id"] == g.grant.id
    assert item["state"] == "active"
    assert item["owner"]["handle"] == g.owner.account["handle"]
    assert item["descriptor"]["purpose"] == "Housing subsidy file"
    assert item["descriptor"]["scope"] == {
        "documents": [g.lease_id],
        "types": ["payslip"],
        "fields": ["address", "employer"],
    }

    documents = g.worker_documents()
    assert set(documents) == {g.payslip_id, g.lease_id}  # not the bank statement
    titles = {d.document_id: d.meta["title"] for d in documents.values()}
    assert titles == {g.payslip_id: "Payslip March", g.lease_id: "Lease 2026"}
    assert documents[g.payslip_id].meta["type"] == "payslip"
    for document_id, content in g.files.items():
        assert g.fetch(document_id) == content

    assert received_profile(g.worker, g.grant.id) == {"address": "Rue Haute 1, 1000 Brussels"}

    # The bank statement is not reachable through the grant, even by guessing its id.
    http = g.app.client
    outside = get(
        http,
        f"/api/v1/received/{g.grant.id}/documents/{g.bank_id}/versions/1/blob",
        g.worker.api.token,
    )
    never = get(
        http,
        f"/api/v1/received/{g.grant.id}/documents/{unknown_id()}/versions/1/blob",
        g.worker.api.token,
    )
    assert outside.status_code == never.status_code == 404
    assert outside.json() == never.json()

    # The owner's list shows the grant with the worker and its document count.
    [given] = grants_given(g.owner)
    assert given["id"] == g.grant.id and given["state"] == "active"
    assert given["grantee"]["handle"] == g.worker.account["handle"]
    assert given["documents"] == 2
    assert given["descriptor"]["purpose"] == "Housing subsidy file"


def test_grant_keeps_up_with_new_documents_versions_and_fields(granted: Granted) -> None:
    g = granted
    # A new payslip reaches the worker without the owner doing anything more.
    april = write_file(g.tmp / "payslip-april.pdf", "payslip april")
    april_id, _ = g.owner.upload(april, "payslip", "Payslip April")
    # A new version of the named document (whatever its type) reaches the worker too.
    lease_v2 = write_file(g.tmp / "lease-v2.pdf", "lease signed")
    g.owner.upload(lease_v2, "lease", "Lease 2026 signed", replace=g.lease_id)
    # A document of another type does not.
    energy = write_file(g.tmp / "energy.pdf", "energy bill")
    energy_id, _ = g.owner.upload(energy, "energy_bill", "Energy bill")

    documents = g.worker_documents()
    assert set(documents) == {g.payslip_id, g.lease_id, april_id}
    assert energy_id not in documents
    assert documents[april_id].meta["title"] == "Payslip April"
    assert documents[g.lease_id].version == 2
    assert documents[g.lease_id].meta["title"] == "Lease 2026 signed"
    assert g.fetch(april_id) == april.read_bytes()
    assert g.fetch(g.lease_id) == lease_v2.read_bytes()
    [given] = grants_given(g.owner)
    assert given["documents"] == 4  # payslip, lease v1 and v2, april

    # A changed field is re-sealed for the worker; a field filled in later arrives too;
    # a field outside the grant stays out.
    g.owner.set_profile_field("address", "Rue Neuve 9, 1000 Brussels")
    g.owner.set_profile_field("employer", "Bakery Dupont")
    g.owner.set_profile_field("national_number", "90.01.01-123.45")
    assert received_profile(g.worker, g.grant.id) == {
        "address": "Rue Neuve 9, 1000 Brussels",
        "employer": "Bakery Dupont",
    }


# --- revoke, expiry, strangers: the very same 404 ------------------------------------------


def test_revoke_takes_effect_at_once_and_drops_the_keys(granted: Granted) -> None:
    g = granted
    url = g.app.database.url
    http = g.app.client
    token = g.worker.api.token
    for path in grantee_requests(g.grant.id, g.payslip_id)[:3]:
        assert get(http, path, token).status_code == 200, path
    assert wrap_counts(url, g.grant.id) == (2, 1)

    revoke_grant(g.owner, g.grant.id)

    assert_same_as_unknown_grant(http, token, g.grant.id, g.payslip_id)
    assert received(g.worker, g.worker_pins) == []
    with pytest.raises(ApiError) as caught:
        received_documents(g.worker, g.grant.id, g.owner_signing_key)
    assert caught.value.status == 404
    # No key sealed to the worker is left on the server for this grant.
    assert wrap_counts(url, g.grant.id) == (0, 0)
    with database(url) as db:
        row = db.get(Grant, g.grant.id)
        assert row is not None and row.revoked_at is not None

    [given] = grants_given(g.owner)
    assert given["state"] == "revoked" and given["documents"] == 0
    # A new payslip does not reach a revoked grant, and nothing can be added to it.
    g.owner.upload(write_file(g.tmp / "may.pdf", "payslip may"), "payslip", "Payslip May")
    g.owner.set_profile_field("address", "Somewhere else")
    assert wrap_counts(url, g.grant.id) == (0, 0)
    with pytest.raises(ApiError) as caught:
        g.owner.api.api("POST", f"/grants/{g.grant.id}/wraps", json={"wraps": []})
    assert caught.value.status == 409
    # Revoking twice is harmless; someone else revoking it is a 404.
    revoke_grant(g.owner, g.grant.id)
    with pytest.raises(ApiError) as caught:
        revoke_grant(g.worker, g.grant.id)
    assert caught.value.status == 404


def test_expired_grant_answers_like_an_unknown_one(granted: Granted) -> None:
    g = granted
    url = g.app.database.url
    http = g.app.client
    token = g.worker.api.token
    assert get(http, grantee_requests(g.grant.id, g.payslip_id)[2], token).status_code == 200
    with database(url) as db:
        row = db.get(Grant, g.grant.id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.add(row)
        db.commit()

    assert_same_as_unknown_grant(http, token, g.grant.id, g.payslip_id)
    assert received(g.worker, g.worker_pins) == []
    [given] = grants_given(g.owner)
    assert given["state"] == "expired"
    # New documents are not wrapped for an expired grant, and uploading still works.
    before = wrap_counts(url, g.grant.id)
    g.owner.upload(write_file(g.tmp / "may.pdf", "payslip may"), "payslip", "Payslip May")
    assert wrap_counts(url, g.grant.id) == before


def test_expiry_in_the_future_is_kept_and_past_is_refused(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    owner = wallet_app.new_vault()
    worker = wallet_app.new_vault()
    doc, _ = owner.upload(write_file(tmp_path / "p.pdf", "p"), "payslip", "P")
    until = utcnow() + timedelta(days=30)
    grant = create_grant(
        owner, worker.account["handle"], purpose="x", types=["payslip"], expires_at=until,
        pins=PinStore(None),
    )  # fmt: skip
    [item] = received(worker, PinStore(None))
    assert item["id"] == grant.id
    assert item["descriptor"]["expires_at"] == until.isoformat()
    assert item["expires_at"] is not None
    with pytest.raises(ApiError) as caught:
        create_grant(
            owner, worker.account["handle"], purpose="x", document_ids=[doc],
            expires_at=utcnow() - timedelta(days=1), pins=PinStore(None),
        )  # fmt: skip
    assert caught.value.status == 422 and "in the past" in caught.value.message
    # A date without a time zone is refused plainly (it used to be a 500).
    naive = {
        "grant_id": unknown_id(),
        "grantee_handle": worker.account["handle"],
        "grantee_key_id": worker.keys.key_id,
        "sealed_for_owner": "eA",
        "sealed_for_grantee": "eA",
        "signature": "A" * 86,
        "expires_at": "2030-01-31T12:00:00",
    }
    response = owner.api.request("POST", "/api/v1/grants", json=naive, ok=(422,))
    assert "needs a time zone" in response.json()["detail"]
    assert len(grants_given(owner)) == 1


def test_a_third_account_cannot_read_the_grant(granted: Granted) -> None:
    g = granted
    stranger = g.app.new_vault()
    http = g.app.client
    assert_same_as_unknown_grant(http, stranger.api.token, g.grant.id, g.payslip_id)
    assert received(stranger, PinStore(None)) == []
    # Neither can the owner use the grantee's side of their own grant.
    assert_same_as_unknown_grant(http, g.owner.api.token, g.grant.id, g.payslip_id)
    # Nor list, extend or revoke it as if it were theirs.
    assert stranger.api.api("GET", "/grants").json() == []
    for path in (f"/grants/{g.grant.id}/wraps", f"/grants/{g.grant.id}/revoke"):
        body = {"wraps": [], "field_wraps": []}
        real = stranger.api.request("POST", "/api/v1" + path, json=body, ok=(404,))
        twin = stranger.api.request(
            "POST", "/api/v1" + path.replace(g.grant.id, unknown_id()), json=body, ok=(404,)
        )
        assert real.json() == twin.json()
    # The worker still has the grant.
    assert [r["id"] for r in received(g.worker, g.worker_pins)] == [g.grant.id]


# --- keys: pinning, safety codes, signed statements ------------------------------------------


def test_safety_codes_of_both_sides_match(granted: Granted) -> None:
    g = granted
    code = own_safety_code(g.worker)
    assert g.grant.safety_code == code
    digits = code.split(" ")
    assert [len(part) for part in digits] == [4, 4, 4] and "".join(digits).isdigit()
    assert own_safety_code(g.owner) != code
    # The grantee sees the owner's code the same way.
    [item] = received(g.worker, g.worker_pins)
    from wallet.client.contacts import safety_code

    owner_keys = item["owner"]
    assert safety_code(
        b64d(owner_keys["public_encryption_key"]), b64d(owner_keys["public_signing_key"])
    ) == own_safety_code(g.owner)


def test_a_changed_key_is_refused_until_accepted(granted: Granted) -> None:
    g = granted
    url = g.app.database.url
    handle = g.worker.account["handle"]
    doc = [g.lease_id]
    # The key was pinned by the first grant: a second grant to the same key is fine.
    second = create_grant(g.owner, handle, purpose="again", document_ids=doc, pins=g.owner_pins)
    assert not second.first_contact
    assert len(grants_given(g.owner)) == 2

    new_keys = swap_account_keys(url, handle)
    for pins in (g.owner_pins, PinStore(g.tmp / "owner-pins.json")):  # in memory and on disk
        with pytest.raises(KeyChanged) as caught:
            create_grant(g.owner, handle, purpose="third", document_ids=doc, pins=pins)
        assert "NEW key" in str(caught.value) and handle in str(caught.value)
    assert len(grants_given(g.owner)) == 2  # nothing was created

    accepted = create_grant(
        g.owner, handle, purpose="third", document_ids=doc, pins=g.owner_pins, accept_new_key=True
    )
    assert accepted.safety_code != g.grant.safety_code
    with database(url) as db:
        row = db.get(Grant, accepted.id)
        assert row is not None and row.grantee_key_id == new_keys.key_id
    # The new key is now the pinned one.
    create_grant(g.owner, handle, purpose="fourth", document_ids=doc, pins=g.owner_pins)
    assert len(grants_given(g.owner)) == 4


def test_new_documents_are_not_sealed_to_a_swapped_key(granted: Granted) -> None:
    """A server that swaps the grantee's key must not receive the keys of later documents."""
    g = granted
    url = g.app.database.url
    swap_account_keys(url, g.worker.account["handle"])
    before = wrap_counts(url, g.grant.id)
    april = write_file(g.tmp / "april.pdf", "payslip april")
    with pytest.raises(KeyChanged):
        g.owner.upload(april, "payslip", "Payslip April")
    with pytest.raises(KeyChanged):
        g.owner.set_profile_field("address", "Rue Neuve 9")
    assert wrap_counts(url, g.grant.id) == before
    # The owner's own copies are stored all the same.
    titles = {d.title for d in g.owner.list_documents()}
    assert "Payslip April" in titles
    assert g.owner.profile()["address"] == "Rue Neuve 9"


def test_tampered_statement_or_wrap_is_refused(granted: Granted) -> None:
    g = granted
    url = g.app.database.url
    assert set(g.worker_documents()) == {g.payslip_id, g.lease_id}

    def edit(column: str, change) -> bytes:  # type: ignore[no-untyped-def]
        with database(url) as db:
            wrap = db.exec(
                select(KeyWrap).where(KeyWrap.grant_id == g.grant.id).order_by(col(KeyWrap.id))
            ).first()
            assert wrap is not None
            original = getattr(wrap, column)
            setattr(wrap, column, change(original))
            db.add(wrap)
            db.commit()
            return original

    def restore(column: str, original: bytes) -> None:
        edit(column, lambda _old: original)

    def bump_version(statement: bytes) -> bytes:
        data = json.loads(statement)
        data["version"] += 1
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    def flip_last_byte(data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1])

    for column, change in (
        ("statement", bump_version),
        ("statement", flip_last_byte),
        ("statement_signature", flip_last_byte),
        ("wrapped_key", flip_last_byte),
    ):
        original = edit(column, change)
        with pytest.raises(IntegrityFailure):
            received_documents(g.worker, g.grant.id, g.owner_signing_key)
        restore(column, original)
        assert set(g.worker_documents()) == {g.payslip_id, g.lease_id}

    # A statement signed by someone else than the owner is refused too.
    with pytest.raises(IntegrityFailure):
        received_documents(g.worker, g.grant.id, g.worker.keys.public_signing_key)


# --- clear errors ---------------------------------------------------------------------------


def test_grant_mistakes_get_a_clear_error(wallet_app: WalletApp, tmp_path: Path) -> None:
    owner = wallet_app.new_vault()
    doc, _ = owner.upload(write_file(tmp_path / "p.pdf", "p"), "payslip", "P")
    pins = PinStore(None)

    with pytest.raises(ApiError) as caught:
        create_grant(owner, owner.account["handle"], purpose="me", document_ids=[doc], pins=pins)
    assert caught.value.status == 422
    assert caught.value.message == "You cannot give a grant to yourself."

    nobody = f"nobody-{secrets.token_hex(4)}"
    with pytest.raises(ApiError) as caught:
        create_grant(owner, nobody, purpose="x", document_ids=[doc], pins=pins)
    assert caught.value.status == 404
    assert "We know nobody with this handle" in caught.value.message

    worker = wallet_app.new_vault().account["handle"]
    for kwargs, expected in (
        ({"purpose": "  ", "document_ids": [doc]}, "Say what the access is for"),
        ({"purpose": "x", "types": ["spaceship"]}, "'spaceship' is not a document type"),
        ({"purpose": "x", "fields": ["shoe_size"]}, "'shoe_size' is not a profile field"),
        ({"purpose": "x"}, "Nothing to share"),
    ):
        with pytest.raises(VaultError, match=expected):
            create_grant(owner, worker, pins=pins, **kwargs)  # type: ignore[arg-type]

    stranger_doc = unknown_id()  # not a document of this owner
    with pytest.raises(VaultError, match=f"No document {stranger_doc}"):
        create_grant(owner, worker, purpose="x", document_ids=[stranger_doc], pins=pins)
    assert grants_given(owner) == []


# --- zero knowledge still holds with grants --------------------------------------------------


def test_server_learns_no_purpose_title_or_field_from_grants(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    canary = "CANARY-" + secrets.token_hex(12)
    g = make_granted(wallet_app, tmp_path, purpose=f"Purpose {canary}")
    new = write_file(tmp_path / f"{canary}.pdf", f"content {canary}")
    new_id, _ = g.owner.upload(new, "payslip", f"Payslip {canary}", issuer=f"Employer {canary}")
    g.owner.set_profile_field("address", f"Street {canary}")
    g.owner.set_profile_field("employer", f"Employer {canary}")

    # The worker reads everything, so every sealed copy really exists on the server.
    [item] = received(g.worker, g.worker_pins)
    assert item["descriptor"]["purpose"] == f"Purpose {canary}"
    assert g.worker_documents()[new_id].meta["title"] == f"Payslip {canary}"
    assert g.fetch(new_id) == new.read_bytes()
    assert received_profile(g.worker, g.grant.id)["employer"] == f"Employer {canary}"
    g.owner.api.api("GET", "/journal")

    stored = database_contents(wallet_app, tmp_path) + blob_contents(wallet_app)
    assert hits(stored, g.worker.account["handle"]), "positive control: handles are in clear"
    assert hits(stored, canary) == []
    assert hits(stored, canary.lower()) == [] and hits(stored, canary.upper()) == []
    for title in ("Payslip March", "Lease 2026", "Housing subsidy file", "Rue Haute 1"):
        assert hits(stored, title) == [], title


def test_no_wrap_can_be_added_to_a_revoked_grant(wallet_app) -> None:
    from wallet.client.contacts import PinStore
    from wallet.client.grants import create_grant, revoke_grant

    owner, worker = wallet_app.new_vault(), wallet_app.new_vault()
    grant = create_grant(
        owner, worker.account["handle"], purpose="Follow-up", types=["payslip"], pins=PinStore(None)
    )
    revoke_grant(owner, grant.id)
    answer = wallet_app.client.post(
        f"/api/v1/grants/{grant.id}/wraps",
        json={"wraps": [], "field_wraps": []},
        headers={"Authorization": f"Bearer {owner.api.token}"},
    )
    assert answer.status_code == 409
    assert "ended" in answer.json()["detail"]


def test_a_changed_manifest_is_caught_by_the_grantee(wallet_app, tmp_path) -> None:
    """The blob hash the grantee checks comes from the owner-signed manifest: a server that
    edits it (to pass off another file) is caught before anything is decrypted."""
    from sqlalchemy import text

    from wallet.client.contacts import PinStore
    from wallet.client.grants import create_grant, received, received_documents
    from wallet.client.vault import IntegrityFailure
    from wallet.crypto.encoding import b64d

    owner, worker = wallet_app.new_vault(), wallet_app.new_vault()
    source = tmp_path / "payslip.pdf"
    source.write_bytes(b"payslip for the grantee")
    document_id, _ = owner.upload(source, "payslip", "Payslip May")
    create_grant(
        owner, worker.account["handle"], purpose="Check", types=["payslip"], pins=PinStore(None)
    )
    grant = received(worker, PinStore(None))[0]
    owner_key = b64d(grant["owner"]["public_signing_key"])
    assert [d.document_id for d in received_documents(worker, grant["id"], owner_key)] == [
        document_id
    ]
    with wallet_app.client.app.state.engine.begin() as connection:
        connection.execute(
            text("UPDATE document_version SET manifest = :m WHERE document_id = :d"),
            {"m": b'{"blob_sha256":"' + b"0" * 64 + b'"}', "d": document_id},
        )
    with pytest.raises(IntegrityFailure):
        received_documents(worker, grant["id"], owner_key)


def test_the_pin_is_for_the_handle_asked_for_not_the_one_the_server_names(wallet_app) -> None:
    """A server answering for 'alice' with someone else's handle and keys is refused."""
    from wallet.client.contacts import KeyChanged, PinStore, person

    owner, worker, other = wallet_app.new_vault(), wallet_app.new_vault(), wallet_app.new_vault()
    pins = PinStore(None)
    person(owner, worker.account["handle"], pins)

    class LyingApi:
        def __init__(self, real) -> None:
            self.real = real

        def api(self, method, path, **kwargs):
            answer = self.real.api(method, f"/people/{other.account['handle']}", **kwargs)
            return answer

    owner.api, real = LyingApi(owner.api), owner.api
    try:
        with pytest.raises(KeyChanged):
            person(owner, worker.account["handle"], pins)
    finally:
        owner.api = real


@pytest.mark.parametrize("event", ["grant_download", "grant_listed"])
def test_a_revoke_that_lands_during_a_read_ends_it(
    wallet_app: WalletApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, event: str
) -> None:
    """The revoke commits after the grantee's read checked the grant but before it was
    journaled: the read is refused, so nothing is served once the revoke has returned."""
    import sharing.grants.service as grant_service

    g = make_granted(wallet_app, tmp_path)
    documents = g.worker_documents()
    engine = wallet_app.client.app.state.engine
    real_append = grant_service.journal.append
    revoked: list[str] = []

    def revoke_first(db: Session, owner_id: str, name: str, **kw: object) -> object:
        if name == event and not revoked:
            with Session(engine, expire_on_commit=False) as other:
                grant_service.revoke_grant(other, other.get(Account, owner_id), g.grant.id)
                other.commit()
            revoked.append(name)
        return real_append(db, owner_id, name, **kw)

    monkeypatch.setattr(grant_service.journal, "append", revoke_first)
    with pytest.raises((ApiError, VaultError)):
        if event == "grant_download":
            received_get(g.worker, g.grant.id, documents[g.lease_id], tmp_path / "out")
        else:
            g.worker_documents()
    assert revoked == [event]
    assert not (tmp_path / "out").exists()
