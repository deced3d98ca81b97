"""Digital proxies (mandates): a trusted person acts for the owner, inside the mandate only.

The boundary matrix: every proxy action x {in scope, out of scope, expired, revoked, one-shot
used, renounced}. Ended mandates answer exactly like an id that never existed; actions the
mandate does not allow are a plain 403 for the rightful proxy only. Every proxy action lands in
the owner's journal with both parties; the scope never grows without the owner's signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from sharing.grants.service import UNKNOWN_PERSON
from sharing.mandates.models import Mandate, MandateLink, MandateWrap
from sharing.mandates.service import forget_ended_wraps
from tests.conftest import TEST_PASSPHRASE, WalletApp
from tests.test_grants import database, unknown_id, write_file
from tests.test_zero_knowledge import blob_contents, database_contents, hits
from wallet.client import Vault
from wallet.client import journal as journallib
from wallet.client import links as linklib
from wallet.client.api import ApiError
from wallet.client.contacts import PinStore
from wallet.client.mandates import (
    CreatedMandate,
    ProxyVault,
    actions_since_last_login,
    attestation_html,
    create_mandate,
    mandates_given,
    own_actions,
    received,
    renounce,
    revoke_mandate,
)
from wallet.client.vault import IntegrityFailure, VaultError
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import sign
from wallet.crypto.wrap import document_key_info, seal
from wallet.db import utcnow
from wallet.documents.models import Document
from wallet.protocol import statements
from wallet.server.sweeper import sweep

API = "/api/v1"
AUTHZ_COVERED = {
    "POST /api/v1/mandates",
    "GET /api/v1/mandates",
    "POST /api/v1/mandates/{mandate_id}/wraps",
    "POST /api/v1/mandates/{mandate_id}/revoke",
    "GET /api/v1/mandates/received",
    "GET /api/v1/mandates/{mandate_id}/documents",
    "GET /api/v1/mandates/{mandate_id}/documents/{document_id}/versions/{version}/blob",
    "POST /api/v1/mandates/{mandate_id}/documents",
    "POST /api/v1/mandates/{mandate_id}/links",
    "POST /api/v1/mandates/{mandate_id}/complete",
    "POST /api/v1/mandates/{mandate_id}/renounce",
    "GET /api/v1/mandates/{mandate_id}/actions",
    "GET /api/v1/mandates/{mandate_id}/head",
}
STATES = ["in_scope", "out_of_scope", "expired", "revoked", "used", "renounced"]
ENDED_STATES = ["expired", "revoked", "used", "renounced"]


@dataclass
class Setting:
    app: WalletApp
    owner: Vault
    proxy: Vault
    stranger: Vault
    lease_id: str
    certificate_id: str
    payslip_id: str
    files: dict[str, bytes]
    tmp: Path

    @property
    def owner_handle(self) -> str:
        return str(self.owner.account["handle"])

    def give(
        self, duration: str = "1m", actions: str = "view,upload,share", **kw: Any
    ) -> CreatedMandate:
        return create_mandate(
            self.owner,
            self.proxy.account["handle"],
            categories=kw.pop("categories", ["housing", "health"]),
            actions=[a for a in actions.split(",") if a],
            duration=duration,
            purpose=kw.pop("purpose", "Housing subsidy renewal"),
            pins=PinStore(None),
            **kw,
        )

    def acting(self) -> ProxyVault:
        return ProxyVault.open(self.proxy, self.owner_handle, PinStore(None))

    def http(self) -> httpx.Client:
        return self.app.client  # type: ignore[return-value]


def make_setting(app: WalletApp, tmp: Path) -> Setting:
    owner = app.new_vault()
    proxy = app.new_vault()
    stranger = app.new_vault()
    lease = write_file(tmp / "lease.pdf", "lease")
    certificate = write_file(tmp / "certificate.pdf", "medical certificate")
    payslip = write_file(tmp / "payslip.pdf", "payslip")
    lease_id, _ = owner.upload(lease, "lease", "Lease 2026")
    certificate_id, _ = owner.upload(certificate, "medical_certificate", "Certificate")
    payslip_id, _ = owner.upload(payslip, "payslip", "Payslip March")
    files = {
        lease_id: lease.read_bytes(),
        certificate_id: certificate.read_bytes(),
        payslip_id: payslip.read_bytes(),
    }
    return Setting(app, owner, proxy, stranger, lease_id, certificate_id, payslip_id, files, tmp)


@pytest.fixture
def setting(wallet_app: WalletApp, tmp_path: Path) -> Setting:
    return make_setting(wallet_app, tmp_path)


def headers(vault: Vault | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {vault.api.token}"} if vault and vault.api.token else {}


def set_expired(s: Setting, mandate_id: str) -> None:
    """The server uses real time: move the end into the past, as time would."""
    with database(s.app.database.url) as db:
        mandate = db.get(Mandate, mandate_id)
        assert mandate is not None
        mandate.expires_at = utcnow() - timedelta(seconds=1)
        db.add(mandate)
        db.commit()


def end(s: Setting, state: str) -> CreatedMandate:
    """A mandate brought into one of the ended states."""
    mandate = s.give(duration="once" if state == "used" else "1m")
    if state == "expired":
        set_expired(s, mandate.id)
    elif state == "revoked":
        revoke_mandate(s.owner, mandate.id)
    elif state == "used":
        s.acting().complete()
    elif state == "renounced":
        renounce(s.proxy, mandate.id)
    return mandate


def journal_entries(vault: Vault) -> list[dict[str, Any]]:
    return journallib.fetch_entries(vault)


def proxy_entries(vault: Vault, mandate_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in journal_entries(vault)
        if json.loads(e["details"]).get("mandate") == mandate_id and e["actor_kind"] == "account"
    ]


# --- the story: view, upload, share, all inside the mandate ---------------------------------


def test_proxy_sees_exactly_the_scope_and_acts_for_the_owner(setting: Setting) -> None:
    s = setting
    mandate = s.give()
    assert mandate.documents == 2  # the lease and the certificate, not the payslip
    assert mandate.kind == "personal" and mandate.actions == ["share", "upload", "view"]

    [item] = received(s.proxy, PinStore(None))
    assert item["id"] == mandate.id
    assert item["descriptor"]["purpose"] == "Housing subsidy renewal"
    assert item["descriptor"]["scope"] == {"categories": ["health", "housing"], "documents": []}

    acting = s.acting()
    documents = {d.id: d for d in acting.list_documents()}
    assert set(documents) == {s.lease_id, s.certificate_id}
    assert documents[s.lease_id].title == "Lease 2026"
    target = s.tmp / "lease-copy.pdf"
    acting.download(s.lease_id, target)
    assert target.read_bytes() == s.files[s.lease_id]

    # A new in-scope upload by the owner reaches the mandate; an out-of-scope one does not.
    bill = write_file(s.tmp / "bill.pdf", "energy bill")
    bill_id, _ = s.owner.upload(bill, "energy_bill", "Energy bill")
    bank = write_file(s.tmp / "bank.pdf", "bank")
    bank_id, _ = s.owner.upload(bank, "bank_statement", "Bank")
    ids = {d.id for d in s.acting().list_documents()}
    assert bill_id in ids and bank_id not in ids

    # The proxy adds a document on the owner's behalf: owned by the owner, marked as such.
    receipt = write_file(s.tmp / "rent-receipt.pdf", "rent receipt")
    added_id, version = acting.upload(receipt, "rent_receipt", "Rent receipt April")
    assert version == 1
    owners_view = {d.id: d for d in s.owner.list_documents()}
    assert owners_view[added_id].added_by == s.proxy.account["handle"]
    assert owners_view[s.lease_id].added_by is None
    mine = s.tmp / "receipt-owner.pdf"
    s.owner.download(added_id, mine)
    assert mine.read_bytes() == receipt.read_bytes()
    assert added_id in {d.id for d in s.acting().list_documents()}

    # A one-shot link made by the proxy: the redeemer sees who made it for whom.
    link = linklib.create_link(s.acting(), [s.lease_id], purpose="For the housing office")
    opened = linklib.open_link(link.url, s.tmp / "opened", api=s.app.api())
    assert opened.owner == s.owner_handle
    assert opened.proxy == s.proxy.account["handle"]
    assert opened.files[0].read_bytes() == s.files[s.lease_id]
    # The owner sees and can stop the link.
    assert link.id in {row["id"] for row in s.owner.api.api("GET", "/links").json()}

    # Every proxy action is in the owner's journal with the proxy as actor.
    events = [e["event"] for e in proxy_entries(s.owner, mandate.id)]
    for event in (
        "mandate_listed",
        "mandate_download",
        "mandate_document_added",
        "mandate_link_created",
    ):
        assert event in events, events
    assert {e["actor_id"] for e in proxy_entries(s.owner, mandate.id)} == {s.proxy.account["id"]}
    rendered = journallib.render(s.owner, journal_entries(s.owner))
    sentences = [r["sentence"] for r in rendered]
    proxy_handle = s.proxy.account["handle"]
    assert f"{proxy_handle} viewed \u201cLease 2026\u201d, acting for you." in sentences
    assert f"{proxy_handle} added \u201cRent receipt April\u201d, acting for you." in sentences
    assert (
        f"You allowed {proxy_handle} to act on your behalf for \u201cHousing subsidy renewal\u201d."
        in sentences
    )

    # The proxy sees its own actions, and only those.
    own = own_actions(s.proxy, mandate.id)
    assert {a["event"] for a in own} == set(events)
    assert all(set(a) == {"seq", "at", "event", "subject_kind", "subject_id"} for a in own)


# --- the boundary matrix: actions x states -------------------------------------------------


def _link_body(document_id: str) -> dict[str, Any]:
    return {
        "link_id": unknown_id(),
        "proof_key": b64e(secrets.token_bytes(32)),
        "server_share": b64e(secrets.token_bytes(32)),
        "sealed_package": b64e(secrets.token_bytes(64)),
        "sealed_preview": b64e(secrets.token_bytes(64)),
        "descriptor": b64e(b"{}"),
        "signature": b64e(secrets.token_bytes(64)),
        "uses": 1,
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "items": [{"document_id": document_id, "version": 1}],
    }


def _document_body() -> dict[str, Any]:
    return {
        "document_id": unknown_id(),
        "upload_id": unknown_id(),
        "encrypted_meta": b64e(secrets.token_bytes(64)),
        "owner_wrapped_key": b64e(secrets.token_bytes(80)),
        "proxy_wrapped_key": b64e(secrets.token_bytes(80)),
        "manifest": b64e(b"{}"),
        "signature": b64e(secrets.token_bytes(64)),
    }


def proxy_request(action: str, mandate_id: str, document_id: str) -> tuple[str, str, Any]:
    base = f"{API}/mandates/{mandate_id}"
    return {
        "view": ("GET", f"{base}/documents", None),
        "download": ("GET", f"{base}/documents/{document_id}/versions/1/blob", None),
        "upload": ("POST", f"{base}/documents", _document_body()),
        "share": ("POST", f"{base}/links", _link_body(document_id)),
        "complete": ("POST", f"{base}/complete", None),
        "renounce": ("POST", f"{base}/renounce", None),
    }[action]


def send(s: Setting, vault: Vault | None, method: str, path: str, body: Any) -> httpx.Response:
    return s.app.client.request(method, path, json=body, headers=headers(vault))


def assert_same_as_unknown(
    s: Setting, vault: Vault, action: str, mandate_id: str, document_id: str
) -> None:
    """This request answers exactly like one for a mandate id that never existed."""
    real = send(s, vault, *proxy_request(action, mandate_id, document_id))
    twin = send(s, vault, *proxy_request(action, unknown_id(), document_id))
    assert real.status_code == 404, (action, real.status_code, real.text)
    assert twin.status_code == 404, (action, twin.status_code, twin.text)
    assert real.json() == twin.json(), action
    assert real.headers.get("content-type") == twin.headers.get("content-type")


def wrap_count(s: Setting, mandate_id: str) -> int:
    with database(s.app.database.url) as db:
        return len(db.exec(select(MandateWrap).where(MandateWrap.mandate_id == mandate_id)).all())


def owner_document_ids(s: Setting) -> set[str]:
    return {d.id for d in s.owner.list_documents()}


MATRIX = [(action, state) for action in ("view", "download", "upload", "share") for state in STATES]


@pytest.mark.parametrize(("action", "state"), MATRIX, ids=[f"{a}-{st}" for a, st in MATRIX])
def test_boundary_matrix(setting: Setting, action: str, state: str) -> None:
    s = setting
    if state in ENDED_STATES:
        mandate = end(s, state)
        before = owner_document_ids(s)
        assert_same_as_unknown(s, s.proxy, action, mandate.id, s.lease_id)
        # Its keys for the proxy are gone from the server, not only refused.
        assert wrap_count(s, mandate.id) == 0
        with pytest.raises(VaultError, match="no active mandate"):
            s.acting()
        assert owner_document_ids(s) == before
        assert all(m["state"] != "active" for m in mandates_given(s.owner))
        return

    mandate = s.give()
    acting = s.acting()
    target = s.tmp / f"{action}-{state}.pdf"
    in_scope = state == "in_scope"
    if action == "view":
        ids = {d.id for d in acting.list_documents()}
        assert (s.lease_id in ids) and (s.payslip_id not in ids)
    elif action == "download":
        if in_scope:
            acting.download(s.lease_id, target)
            assert target.read_bytes() == s.files[s.lease_id]
        else:
            with pytest.raises(VaultError, match="not in this mandate"):
                acting.download(s.payslip_id, target)
            # Asked for directly: the same 404 as a document that does not exist.
            real = send(s, s.proxy, *proxy_request("download", mandate.id, s.payslip_id))
            twin = send(s, s.proxy, *proxy_request("download", mandate.id, unknown_id()))
            assert real.status_code == twin.status_code == 404
            assert real.json() == twin.json()
            assert not target.exists()
    elif action == "upload":
        source = write_file(s.tmp / "new.pdf", "new document")
        before = owner_document_ids(s)
        if in_scope:
            added, _ = acting.upload(source, "energy_bill", "Energy bill May")
            assert owner_document_ids(s) == before | {added}
        else:
            with pytest.raises(VaultError, match="not in this mandate"):
                acting.upload(source, "payslip", "Payslip May")
            assert owner_document_ids(s) == before
    elif action == "share":
        if in_scope:
            link = linklib.create_link(acting, [s.lease_id])
            opened = linklib.open_link(link.url, s.tmp / "opened", api=s.app.api())
            assert opened.files[0].read_bytes() == s.files[s.lease_id]
        else:
            with pytest.raises(VaultError, match="not in this mandate"):
                linklib.create_link(acting, [s.payslip_id])
            # A hand-made request for a document outside the mandate is refused too.
            refused = send(s, s.proxy, *proxy_request("share", mandate.id, s.payslip_id))
            assert refused.status_code == 404
            assert "not in this mandate" in refused.json()["detail"]
            assert s.owner.api.api("GET", "/links").json() == []
    events = {e["event"] for e in proxy_entries(s.owner, mandate.id)}
    expected = {
        "view": "mandate_listed",
        "download": "mandate_download",
        "upload": "mandate_document_added",
        "share": "mandate_link_created",
    }[action]
    assert (expected in events) == in_scope or action == "view", events


def test_actions_the_mandate_does_not_allow_are_a_plain_403_for_its_proxy_only(
    setting: Setting,
) -> None:
    s = setting
    view_only = s.give(actions="view")
    for action in ("upload", "share"):
        answer = send(s, s.proxy, *proxy_request(action, view_only.id, s.lease_id))
        assert answer.status_code == 403, answer.text
        assert "does not let you" in answer.json()["detail"]
        assert_same_as_unknown(s, s.stranger, action, view_only.id, s.lease_id)
        assert_same_as_unknown(s, s.owner, action, view_only.id, s.lease_id)
    with pytest.raises(VaultError, match="does not let you add documents"):
        s.acting().upload(write_file(s.tmp / "x.pdf", "x"), "lease")
    revoke_mandate(s.owner, view_only.id)

    upload_only = s.give(actions="upload")
    assert upload_only.documents == 0  # no view, no keys
    for action in ("view", "download"):
        answer = send(s, s.proxy, *proxy_request(action, upload_only.id, s.lease_id))
        assert answer.status_code == 403
    added, _ = s.acting().upload(write_file(s.tmp / "y.pdf", "y"), "lease", "Lease copy")
    assert added in owner_document_ids(s)


# --- who may call what (AUTHZ_COVERED) ------------------------------------------------------


def test_every_mandate_endpoint_rightful_caller_stranger_and_no_session(setting: Setting) -> None:
    s = setting
    mandate = s.give()
    owner_rows = [
        ("POST", f"{API}/mandates/{{id}}/wraps", {"wraps": []}),
        ("POST", f"{API}/mandates/{{id}}/revoke", None),
    ]
    proxy_rows = [
        proxy_request(action, "{id}", s.lease_id)
        for action in ("view", "download", "upload", "share")
    ] + [
        ("GET", f"{API}/mandates/{{id}}/actions", None),
        ("GET", f"{API}/mandates/{{id}}/head", None),
    ]
    for method, template, body in owner_rows + proxy_rows:
        rightful = s.owner if (method, template, body) in owner_rows else s.proxy
        wrong = s.proxy if rightful is s.owner else s.owner
        for caller in (s.stranger, wrong):
            real = send(s, caller, method, template.format(id=mandate.id), body)
            twin = send(s, caller, method, template.format(id=unknown_id()), body)
            assert real.status_code == twin.status_code == 404, (template, real.text)
            assert real.json() == twin.json(), template
        anonymous = send(s, None, method, template.format(id=mandate.id), body)
        assert anonymous.status_code == 401, template
        del rightful  # the rightful caller's success is checked just below, per endpoint

    # Rightful callers: the owner lists and extends; the proxy lists, reads its actions.
    assert [m["id"] for m in mandates_given(s.owner)] == [mandate.id]
    assert [m["id"] for m in received(s.proxy, PinStore(None))] == [mandate.id]
    assert s.stranger.api.api("GET", "/mandates").json() == []
    assert s.stranger.api.api("GET", "/mandates/received").json() == []
    assert s.proxy.api.api("GET", "/mandates").json() == []  # it gave none
    for path in ("/mandates", "/mandates/received"):
        assert send(s, None, "GET", API + path, None).status_code == 401
    assert send(s, None, "POST", API + "/mandates", {}).status_code == 401
    bill_id, _ = s.owner.upload(write_file(s.tmp / "bill.pdf", "bill"), "energy_bill", "Bill")
    assert wrap_count(s, mandate.id) == 3  # the owner's upload extended it
    assert s.acting().list_documents()
    assert own_actions(s.proxy, mandate.id)
    s.acting().download(bill_id, s.tmp / "bill-copy.pdf")

    # complete and renounce: rightful proxy only; the stranger and the owner get the 404.
    once = s.give(duration="once")
    for action in ("complete", "renounce"):
        for caller in (s.stranger, s.owner):
            real = send(s, caller, *proxy_request(action, once.id, s.lease_id))
            twin = send(s, caller, *proxy_request(action, unknown_id(), s.lease_id))
            assert real.status_code == twin.status_code == 404
            assert real.json() == twin.json()
        assert send(s, None, *proxy_request(action, once.id, s.lease_id)).status_code == 401
    assert send(s, s.proxy, *proxy_request("complete", once.id, s.lease_id)).status_code == 204
    personal = send(s, s.proxy, *proxy_request("complete", mandate.id, s.lease_id))
    assert personal.status_code == 409
    assert "Only a one-shot mandate ends after its first use" in personal.json()["detail"]
    assert send(s, s.proxy, *proxy_request("renounce", mandate.id, s.lease_id)).status_code == 204
    assert {m["state"] for m in mandates_given(s.owner)} == {"used", "renounced"}


# --- bad inputs -----------------------------------------------------------------------------


def test_bad_inputs_get_a_clear_error(setting: Setting) -> None:
    s = setting
    handle = s.proxy.account["handle"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"duration": None}, "needs an end"),
        ({"duration": "forever"}, "not a duration"),
        ({"categories": ["all"]}, "cannot cover everything"),
        ({"categories": ["flying"]}, "not a procedure category"),
        ({"actions": ""}, "Say what the person may do"),
        ({"actions": "fly"}, "'fly' is not an action"),
        ({"actions": "share"}, "Sharing needs 'view' too"),
        ({"purpose": " "}, "Say what the mandate is for"),
        ({"categories": []}, "Choose what the mandate covers"),
    ]
    for change, message in cases:
        kw = {"duration": "1m", "actions": "view", **change}
        duration, actions = kw.pop("duration"), kw.pop("actions")
        with pytest.raises(VaultError, match=message):
            s.give(duration=duration, actions=actions, **kw)
    with pytest.raises(VaultError, match="to yourself"):
        create_mandate(s.owner, s.owner_handle, categories=["housing"], actions=["view"],
                       duration="1m", purpose="p", pins=PinStore(None))  # fmt: skip
    with pytest.raises(ApiError) as unknown:
        create_mandate(s.owner, "nobody-" + secrets.token_hex(4), categories=["housing"],
                       actions=["view"], duration="1m", purpose="p", pins=PinStore(None))  # fmt: skip
    assert unknown.value.message == UNKNOWN_PERSON  # the same words as for grants
    assert mandates_given(s.owner) == []

    # The server checks the terms too, whatever a client sends.
    good = server_body(s, handle)
    for change, message in [
        ({"expires_at": None}, "needs an end"),
        ({"kind": "forever"}, "'once' (one procedure) or 'personal'"),
        ({"actions": []}, "Say what the person may do"),
        ({"actions": ["view", "delete_account"]}, "not an action"),
        ({"actions": ["share"]}, "Sharing needs 'view' too"),
        ({"kind": "once", "expires_at": in_days(3)}, "24 hours at most"),
        ({"expires_at": in_days(400)}, "one year at most"),
        ({"expires_at": in_days(-1)}, "in the past"),
        ({"proxy_handle": s.owner_handle}, "to yourself"),
        ({"actions": ["upload", "view"]}, "does not match the field 'actions'"),
    ]:
        answer = send(s, s.owner, "POST", f"{API}/mandates", {**good, **change})
        assert answer.status_code == 422, (change, answer.text)
        assert message in answer.json()["detail"], (change, answer.json())
    assert s.owner.api.api("POST", "/mandates", json=good).status_code == 201


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


def server_body(s: Setting, proxy_handle: str, actions: list[str] | None = None) -> dict[str, Any]:
    """A well-formed POST /mandates body signed by the owner, without any document."""
    proxy = s.owner.api.api("GET", f"/people/{proxy_handle}").json()
    mandate_id = unknown_id()
    expires = in_days(30)
    actions = actions or ["view"]
    terms = {
        "v": 1,
        "kind": "mandate-authorisation",
        "mandate_id": mandate_id,
        "owner_key_id": s.owner.keys.key_id,
        "proxy_key_id": proxy["key_id"],
        "proxy_signing_key": proxy["public_signing_key"],
        "actions": actions,
        "mandate_kind": "personal",
        "expires_at": expires,
    }
    message, signature = sign(s.owner.keys.signing_key, terms)
    return {
        "mandate_id": mandate_id,
        "proxy_handle": proxy_handle,
        "proxy_key_id": proxy["key_id"],
        "kind": "personal",
        "actions": actions,
        "expires_at": expires,
        "authorisation": b64e(message),
        "authorisation_signature": b64e(signature),
        "sealed_for_owner": b64e(secrets.token_bytes(64)),
        "sealed_for_proxy": b64e(secrets.token_bytes(64)),
        "signature": b64e(secrets.token_bytes(64)),
        "check_hash": secrets.token_hex(32),
        "wraps": [],
    }


def test_a_proxy_cannot_delegate_or_grow_the_scope(setting: Setting) -> None:
    s = setting
    mandate = s.give(actions="view")
    acting = s.acting()
    # The proxy holds the lease's key, but a mandate it gives covers its own wallet only.
    lease = next(d for d in acting.list_documents() if d.id == s.lease_id)
    body = server_body(s, s.stranger.account["handle"])
    body["authorisation"], body["authorisation_signature"] = resign(s.proxy, body, s.proxy)
    forged = wrap_of(s.proxy, body["mandate_id"], s.stranger, lease)
    answer = send(s, s.proxy, "POST", f"{API}/mandates", {**body, "wraps": [forged]})
    assert answer.status_code == 404
    assert "not in your wallet" in answer.json()["detail"]

    # Only the owner's session adds keys to a mandate, each signed by the owner.
    bank_id, _ = s.owner.upload(write_file(s.tmp / "bank.pdf", "bank"), "bank_statement", "Bank")
    bank = next(d for d in s.owner.list_documents() if d.id == bank_id)
    by_proxy = wrap_of(s.proxy, mandate.id, s.proxy, bank)
    wraps_path = f"{API}/mandates/{mandate.id}/wraps"
    grow = send(s, s.proxy, "POST", wraps_path, {"wraps": [by_proxy]})
    assert grow.status_code == 404
    unsigned = send(s, s.owner, "POST", wraps_path, {"wraps": [by_proxy]})
    assert unsigned.status_code == 422
    assert "not signed by you" in unsigned.json()["detail"]
    assert bank_id not in {d.id for d in s.acting().list_documents()}

    # A server that widens the actions it enforces is caught by the proxy's client.
    with database(s.app.database.url) as db:
        row = db.get(Mandate, mandate.id)
        assert row is not None
        row.actions = "share,upload,view"
        db.add(row)
        db.commit()
    with pytest.raises(IntegrityFailure):
        s.acting()
    with pytest.raises(IntegrityFailure):
        mandates_given(s.owner)


def resign(signer: Vault, body: dict[str, Any], proxy: Vault) -> tuple[str, str]:
    terms = json.loads(base64.urlsafe_b64decode(body["authorisation"] + "=="))
    terms["owner_key_id"] = signer.keys.key_id
    message, signature = sign(signer.keys.signing_key, terms)
    return b64e(message), b64e(signature)


def wrap_of(signer: Vault, mandate_id: str, recipient: Vault, document: Any) -> dict[str, Any]:
    wrapped = seal(
        recipient.keys.public_encryption_key,
        str(document.identity).encode(),
        document_key_info(document.id, document.version, recipient.keys.key_id),
    )
    statement, signature = sign(
        signer.keys.signing_key,
        statements.MANDATE_WRAP.build(
            mandate_id=mandate_id,
            document_id=document.id,
            version=document.version,
            wrap_sha256=hashlib.sha256(wrapped).hexdigest(),
            manifest_sha256=document.manifest_sha256,
        ),
    )
    return {
        "document_id": document.id,
        "version": document.version,
        "wrapped_key": b64e(wrapped),
        "statement": b64e(statement),
        "statement_signature": b64e(signature),
    }


# --- revoking is immediate, and stops the proxy's links -------------------------------------


def test_revoke_takes_effect_at_once_and_stops_links_made_under_it(setting: Setting) -> None:
    s = setting
    mandate = s.give()
    link = linklib.create_link(s.acting(), [s.lease_id])
    with database(s.app.database.url) as db:
        assert db.get(MandateLink, link.id) is not None
    assert wrap_count(s, mandate.id) == 2
    revoke_mandate(s.owner, mandate.id)
    assert wrap_count(s, mandate.id) == 0
    assert_same_as_unknown(s, s.proxy, "view", mandate.id, s.lease_id)
    [row] = s.owner.api.api("GET", "/links").json()
    assert row["state"] == "revoked"
    with pytest.raises(ApiError):
        linklib.open_link(link.url, s.tmp / "late", api=s.app.api())
    events = [e["event"] for e in journal_entries(s.owner)]
    assert "mandate_revoked" in events and "link_revoked" in events
    with pytest.raises(VaultError, match="No mandate"):
        revoke_mandate(s.stranger, mandate.id)


# --- attestation and its public check -------------------------------------------------------


def test_attestation_check_says_valid_then_ended_and_nothing_else(setting: Setting) -> None:
    s = setting
    mandate = s.give(purpose="Housing subsidy renewal")
    page = attestation_html(mandate.descriptor, "https://wallet.example")
    assert "<script" not in page.lower() and "<svg" in page
    assert s.proxy.account["handle"] in page and s.owner_handle in page
    assert "Housing subsidy renewal" in page and "Until" in page
    path = f"/mandates/check/{mandate.id}?c={mandate.check_code}"
    assert f"https://wallet.example{path}" in page

    def check(url: str, as_json: bool = True) -> httpx.Response:
        accept = {"Accept": "application/json"} if as_json else {}
        return s.app.client.get(url, headers=accept)

    valid = check(path).json()
    assert valid["valid"] is True and valid["state"] == "active"
    assert valid["until"] is not None
    html = check(path, as_json=False)
    assert html.status_code == 200 and "valid until" in html.text
    for secret_text in (s.owner_handle, s.proxy.account["handle"], "Housing", s.lease_id):
        assert secret_text not in html.text and secret_text not in json.dumps(valid)

    wrong_code = check(f"/mandates/check/{mandate.id}?c=wrong").json()
    unknown = check(f"/mandates/check/{unknown_id()}?c={mandate.check_code}").json()
    assert wrong_code == unknown and wrong_code["valid"] is False

    revoke_mandate(s.owner, mandate.id)
    ended = check(path).json()
    assert ended == {"valid": False, "state": "ended", "until": None, "message": ended["message"]}
    assert "ended" in check(path, as_json=False).text


# --- the owner's banner, journal with both parties ------------------------------------------


def test_banner_lists_what_proxies_did_since_the_previous_login(setting: Setting) -> None:
    s = setting
    mandate = s.give()
    owner_again = Vault.login(s.app.api(), s.owner_handle, TEST_PASSPHRASE)
    assert actions_since_last_login(journal_entries(owner_again)) == []
    acting = s.acting()
    acting.list_documents()
    acting.download(s.lease_id, s.tmp / "copy.pdf")
    owner_later = Vault.login(s.app.api(), s.owner_handle, TEST_PASSPHRASE)
    done = actions_since_last_login(journal_entries(owner_later))
    assert [e["event"] for e in done] == ["mandate_listed", "mandate_download"]
    assert {e["actor_id"] for e in done} == {s.proxy.account["id"]}
    assert {json.loads(e["details"])["mandate"] for e in done} == {mandate.id}
    # The proxy never reads the owner's journal: its own journal has none of this.
    assert not any(json.loads(e["details"]).get("mandate") for e in journal_entries(s.proxy))


# --- zero knowledge -------------------------------------------------------------------------


def test_sealed_mandate_data_carries_no_plaintext(wallet_app: WalletApp, tmp_path: Path) -> None:
    s = make_setting(wallet_app, tmp_path)
    canary = "CANARY-" + secrets.token_hex(12)
    mandate = s.give(purpose=f"Purpose {canary}")
    source = write_file(tmp_path / f"{canary}.pdf", f"content {canary}")
    s.acting().upload(source, "lease", f"Title {canary}", issuer=f"Issuer {canary}")
    linklib.create_link(s.acting(), [s.lease_id], purpose=f"Link {canary}")
    stored = database_contents(wallet_app, tmp_path) + blob_contents(wallet_app)
    assert hits(stored, canary) == []
    assert hits(stored, mandate.check_code) == []  # only its hash is kept


def test_a_proxy_that_deletes_its_account_leaves_the_owner_able_to_check(
    setting: Setting,
) -> None:
    s = setting
    mandate = s.give()
    added, _ = s.acting().upload(write_file(s.tmp / "r.pdf", "receipt"), "rent_receipt", "R")
    s.proxy.delete_account(TEST_PASSPHRASE)
    [given] = mandates_given(s.owner)
    assert given["id"] == mandate.id and given["state"] == "renounced"
    assert given["proxy"] is None
    assert wrap_count(s, mandate.id) == 0
    documents = {d.id: d for d in s.owner.list_documents()}
    assert documents[added].added_by == given["descriptor"]["proxy"]
    sentences = [r["sentence"] for r in journallib.render(s.owner, journal_entries(s.owner))]
    assert any("added \u201cR\u201d, acting for you" in x for x in sentences), sentences


def test_owner_refuses_a_document_that_claims_a_proxy_but_is_not_signed_by_it(
    setting: Setting,
) -> None:
    """A server cannot pass off a document of its own as "added by your proxy"."""
    s = setting
    mandate = s.give()
    added, _ = s.acting().upload(write_file(s.tmp / "r.pdf", "receipt"), "rent_receipt", "R")
    with database(s.app.database.url) as db:
        document = db.exec(select(Document).where(Document.id == added)).first()
        assert document is not None
        manifest = json.loads(base64.urlsafe_b64decode(document.current_manifest_b64 + "=="))
        assert manifest["mandate_id"] == mandate.id
        forged, signature = sign(s.stranger.keys.signing_key, manifest)  # not the proxy's key
        document.current_manifest_b64 = b64e(forged)
        document.current_signature_b64 = b64e(signature)
        db.add(document)
        db.commit()
    with pytest.raises(IntegrityFailure, match="Do not trust it"):
        Vault(s.owner.api, s.owner.keys, s.owner.account).list_documents()
    # And the proxy's session never reaches the owner's own document endpoints.
    for path in (f"/documents/{s.lease_id}", f"/documents/{s.lease_id}/versions/1/blob"):
        real = send(s, s.proxy, "GET", API + path, None)
        twin = send(s, s.proxy, "GET", API + path.replace(s.lease_id, unknown_id()), None)
        assert real.status_code == twin.status_code == 404
        assert real.json() == twin.json()


def test_the_sweeper_hook_deletes_keys_of_expired_mandates_only(setting: Setting) -> None:
    s = setting
    expired, active = s.give(), s.give(categories=["health"])
    set_expired(s, expired.id)
    assert wrap_count(s, expired.id) == 2 and wrap_count(s, active.id) == 1
    with database(s.app.database.url) as db:
        assert forget_ended_wraps(db) == 2
        db.commit()
    assert wrap_count(s, expired.id) == 0 and wrap_count(s, active.id) == 1


def test_the_sweeper_runs_the_hook(setting: Setting) -> None:
    s = setting
    expired, active = s.give(), s.give(categories=["health"])
    set_expired(s, expired.id)
    state = s.app.client.app.state
    report = sweep(state.engine, state.store, timedelta(hours=1))
    assert report.ended_mandate_wraps == 2
    assert wrap_count(s, expired.id) == 0 and wrap_count(s, active.id) == 1


def test_a_grantee_reads_a_document_the_proxy_added(setting: Setting) -> None:
    """The proxy signed that manifest, not the owner: the owner's grant statement vouches for it."""
    from wallet.client import grants as grantlib

    s = setting
    s.give()
    source = s.tmp / "added.pdf"
    source.write_bytes(b"%PDF-1.4 added by the proxy")
    added_id, _ = s.acting().upload(source, "lease", "Lease added for the owner")
    granted = grantlib.create_grant(
        s.owner,
        s.stranger.account["handle"],
        purpose="Rent check",
        types=["lease"],
        pins=PinStore(None),
    )
    [grant] = grantlib.received(s.stranger, PinStore(None))
    owner_key = b64d(grant["owner"]["public_signing_key"])
    documents = {
        d.document_id: d for d in grantlib.received_documents(s.stranger, granted.id, owner_key)
    }
    assert set(documents) == {s.lease_id, added_id}
    target = s.tmp / "got.pdf"
    grantlib.received_get(s.stranger, granted.id, documents[added_id], target)
    assert target.read_bytes() == source.read_bytes()
