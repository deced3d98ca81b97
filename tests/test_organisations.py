"""Organisations and their team key: access given to an office survives a change of staff, a
removed member loses everything fetched after the removal, rotation is all or nothing, and a
stranger learns nothing about who works where (security properties 3, 4, 5 and 7)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from sharing.grants.models import Grant, GrantFieldWrap
from sharing.organisations.models import Organisation, OrgMember, OrgTeamKey
from tests.conftest import WalletApp, run_cli
from tests.test_cli import assert_plain_failure
from tests.test_grants import database, get, unknown_id, write_file
from tests.test_zero_knowledge import database_contents, hits
from wallet.client import Vault
from wallet.client import organisations as orglib
from wallet.client.api import ApiError
from wallet.client.contacts import KeyChanged, PinStore
from wallet.client.grants import (
    _give,
    create_org_grant,
    grants_given,
    reader_for,
    received,
    received_documents,
    received_get,
    received_profile,
)
from wallet.client.journal import fetch_entries, render
from wallet.client.vault import IntegrityFailure
from wallet.crypto import age
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.keys import AccountKeys
from wallet.crypto.wrap import UnwrapError, document_key_info, open_sealed
from wallet.documents.models import KeyWrap

API = "/api/v1"
AUTHZ_COVERED = {
    "POST /api/v1/orgs",
    "GET /api/v1/orgs",
    "GET /api/v1/orgs/{org}",
    "GET /api/v1/orgs/{org}/public",
    "POST /api/v1/orgs/{org}/members",
    "POST /api/v1/orgs/{org}/members/{handle}/role",
    "GET /api/v1/orgs/{org}/wraps",
    "POST /api/v1/orgs/{org}/rotate",
    "GET /api/v1/orgs/{org}/events",
}


@dataclass
class Office:
    app: WalletApp
    tmp: Path
    admin: Vault
    worker: Vault
    leaver: Vault
    owner: Vault
    handle: str
    org_id: str
    grant_id: str
    payslip_id: str
    lease_id: str
    files: dict[str, bytes]

    def members(self) -> list[Vault]:
        return [self.admin, self.worker, self.leaver]

    def read(self, member: Vault) -> dict[str, Any]:
        """Everything a member reads through the grant: titles, file contents, profile."""
        pins = PinStore(None)
        [grant] = [g for g in received(member, pins) if g["id"] == self.grant_id]
        team = reader_for(member, grant, pins)
        documents = received_documents(
            member, self.grant_id, self.owner.keys.public_signing_key, team
        )
        contents = {}
        for document in documents:
            target = self.tmp / f"got-{secrets.token_hex(4)}"
            received_get(member, self.grant_id, document, target)
            contents[document.meta["title"]] = target.read_bytes()
        return {
            "purpose": grant["descriptor"]["purpose"],
            "via": grant["organisation"]["handle"],
            "files": contents,
            "profile": received_profile(member, self.grant_id, pins),
        }


def make_office(app: WalletApp, tmp: Path) -> Office:
    admin = app.new_vault()
    worker = app.new_vault()
    leaver = app.new_vault()
    owner = app.new_vault()
    name = f"CPAS Example {secrets.token_hex(3)}"
    created = orglib.create_org(admin, name)
    assert created.handle == orglib_handle(name)
    admin_pins = PinStore(tmp / "admin-pins.json")
    orglib.add_member(admin, created.handle, worker.account["handle"], pins=admin_pins)
    orglib.add_member(admin, created.handle, leaver.account["handle"], pins=admin_pins)
    payslip = write_file(tmp / "payslip.pdf", "payslip march")
    lease = write_file(tmp / "lease.pdf", "lease")
    payslip_id, _ = owner.upload(payslip, "payslip", "Payslip March")
    lease_id, _ = owner.upload(lease, "lease", "Lease 2026")
    owner.upload(write_file(tmp / "bank.pdf", "bank"), "bank_statement", "Bank May")
    owner.set_profile_field("address", "Rue Haute 1, 1000 Brussels")
    owner.set_profile_field("national_number", "85.07.30-033.61")
    grant = create_org_grant(
        owner,
        created.handle,
        purpose="Social integration income file",
        document_ids=[lease_id],
        types=["payslip"],
        fields=["address"],
        pins=PinStore(tmp / "owner-pins.json"),
    )
    assert grant.first_contact and grant.documents == 2
    assert grant.safety_code == created.safety_code
    return Office(
        app,
        tmp,
        admin,
        worker,
        leaver,
        owner,
        created.handle,
        created.id,
        grant.id,
        payslip_id,
        lease_id,
        {"Payslip March": payslip.read_bytes(), "Lease 2026": lease.read_bytes()},
    )


def orglib_handle(name: str) -> str:
    from sharing.organisations.service import handle_from_name

    return handle_from_name(name)


@pytest.fixture
def office(wallet_app: WalletApp, tmp_path: Path) -> Office:
    return make_office(wallet_app, tmp_path)


def org_paths(org: str, grant_id: str, document_id: str) -> list[str]:
    return [
        f"{API}/orgs/{org}",
        f"{API}/orgs/{org}/events",
        f"{API}/received/{grant_id}/documents",
        f"{API}/received/{grant_id}/profile",
        f"{API}/received/{grant_id}/documents/{document_id}/versions/1/blob",
    ]


def assert_like_unknown(office: Office, token: str | None) -> None:
    """Every member-only read answers exactly as for an organisation and grant that never
    existed."""
    http = office.app.client
    real = org_paths(office.handle, office.grant_id, office.payslip_id)
    fake = org_paths(f"nowhere-{secrets.token_hex(3)}", unknown_id(), office.payslip_id)
    for real_path, fake_path in zip(real, fake, strict=True):
        answer, twin = get(http, real_path, token), get(http, fake_path, token)
        assert answer.status_code == twin.status_code == 404, (real_path, answer.text)
        assert answer.json() == twin.json(), real_path


# --- members read, strangers learn nothing -------------------------------------------------


def test_every_member_reads_documents_and_profile_fields(office: Office) -> None:
    for member in office.members():
        seen = office.read(member)
        assert seen == {
            "purpose": "Social integration income file",
            "via": office.handle,
            "files": office.files,  # not the bank statement
            "profile": {"address": "Rue Haute 1, 1000 Brussels"},  # not the national number
        }
    # Each read is in the owner's journal with the member's account and the organisation.
    entries = fetch_entries(office.owner)
    downloads = [e for e in entries if e["event"] == "grant_download"]
    assert {e["actor_id"] for e in downloads} == {m.account["id"] for m in office.members()}
    assert all(json.loads(e["details"])["org"] == office.org_id for e in downloads)
    assert any(e["event"] == "grant_profile_read" for e in entries)
    sentences = [r["sentence"] for r in render(office.owner, entries)]
    # The organisation by its name as the owner's client shows it, never by an id.
    assert any(s.startswith("You gave ") and "access to your documents" in s for s in sentences)
    assert all(office.org_id[:8] not in s for s in sentences)
    # The owner's list names the organisation and its current team key.
    [given] = grants_given(office.owner)
    assert given["grantee_kind"] == "organisation"
    assert given["organisation"]["handle"] == office.handle
    assert given["descriptor"]["grantee_org"] == office.org_id


def test_a_stranger_and_a_former_member_see_what_an_unknown_name_gets(office: Office) -> None:
    stranger = office.app.new_vault()
    assert_like_unknown(office, stranger.api.token)
    assert received(stranger, PinStore(None)) == []
    assert stranger.api.api("GET", "/orgs").json() == []
    # The owner gave the access but is not a member: the member side is closed to them too.
    assert_like_unknown(office, office.owner.api.token)
    # Organisation names are public, so anyone logged in can look up its team key to give
    # it access; an unknown name gets a plain error.
    public = stranger.api.api("GET", f"/orgs/{office.handle}/public").json()
    assert public["id"] == office.org_id and len(public["team_keys"]) == 1
    with pytest.raises(ApiError) as caught:
        create_org_grant(
            office.owner, "no-such-office", purpose="x", types=["payslip"], pins=PinStore(None)
        )
    assert caught.value.status == 404
    assert "We know no organisation by this name" in caught.value.message


def test_the_team_private_key_never_reaches_the_server(office: Office, tmp_path: Path) -> None:
    """Property 1 for teams: the server holds sealed copies and public keys only."""
    team = orglib.team_key(office.worker, office.handle)
    bundle = json.loads(team.keys.to_bytes())
    secrets_of_team = [b64d(bundle["x25519"]), b64d(bundle["ed25519_seed"]), team.keys.to_bytes()]
    stored = database_contents(office.app, tmp_path)
    for secret in secrets_of_team:
        assert hits(stored, secret) == []
    # ...while the public key is there (the scan can find what is stored).
    assert hits(stored, team.keys.public_encryption_key)


# --- roles ---------------------------------------------------------------------------------


def test_roles_workers_cannot_manage_and_the_last_admin_stays(office: Office) -> None:
    newcomer = office.app.new_vault()
    with pytest.raises(ApiError) as caught:
        orglib.add_member(
            office.admin, office.handle, office.worker.account["handle"], pins=PinStore(None)
        )
    assert caught.value.status == 409 and "already a member" in caught.value.message
    # A worker's client refuses before asking; the server refuses a worker too.
    team = orglib.team_key(office.worker, office.handle)
    body = {
        "role": "worker",
        "copy_for_member": orglib._sealed_copy(
            office.worker,
            office.org_id,
            team.keys,
            {
                "handle": newcomer.account["handle"],
                "key_id": newcomer.keys.key_id,
                "public_encryption_key": b64e(newcomer.keys.public_encryption_key),
            },
        ),
    }
    refused = office.worker.api.request(
        "POST", f"{API}/orgs/{office.handle}/members", json=body, ok=(403,)
    )
    assert "Only an admin" in refused.json()["detail"]
    with pytest.raises(ApiError) as caught:
        office.worker.api.api("GET", f"/orgs/{office.handle}/wraps")
    assert caught.value.status == 403
    with pytest.raises(ApiError) as caught:
        orglib.rotate(office.admin, office.handle, remove=office.admin.account["handle"],
                      pins=PinStore(None))  # fmt: skip
    assert caught.value.status == 409 and "last admin" in caught.value.message
    # With a second admin, the first may leave.
    orglib.add_member(
        office.admin, office.handle, newcomer.account["handle"], role="admin", pins=PinStore(None)
    )
    orglib.rotate(
        office.admin, office.handle, remove=office.admin.account["handle"], pins=PinStore(None)
    )
    assert office.read(newcomer)["files"] == office.files
    assert_like_unknown(office, office.admin.api.token)
    events = [e["event"] for e in orglib.org_events(newcomer, office.handle)]
    assert events == [
        "org_created",
        "member_added",
        "member_added",
        "member_added",
        "member_removed",
        "team_key_rotated",
    ]


def test_an_admin_changes_roles_and_the_last_admin_stays(office: Office) -> None:
    o = office
    http = o.app.client
    worker = o.worker.account["handle"]
    path = f"{API}/orgs/{o.handle}/members/{worker}/role"
    stranger = o.app.new_vault()
    unknown = f"{API}/orgs/nowhere-{secrets.token_hex(3)}/members/{worker}/role"

    def call(token: str | None, url: str, role: str) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return http.post(url, headers=headers, json={"role": role})

    assert call(None, path, "admin").status_code == 401
    # A stranger learns nothing: exactly what an unknown organisation answers.
    real, twin = call(stranger.api.token, path, "admin"), call(stranger.api.token, unknown, "admin")
    assert real.status_code == twin.status_code == 404 and real.json() == twin.json()
    # A worker cannot promote themselves.
    refused = call(o.worker.api.token, path, "admin")
    assert refused.status_code == 403 and "Only an admin" in refused.json()["detail"]
    assert call(o.admin.api.token, path, "boss").status_code == 422
    assert orglib.change_role(o.admin, o.handle, worker, "admin") == {
        "handle": worker,
        "role": "admin",
    }
    roles = {
        m["keys"]["handle"]: m["role"] for m in orglib.org_detail(o.admin, o.handle)["members"]
    }
    assert roles[worker] == "admin"
    # The new admin holds the same team key: no rotation, and can now add members.
    orglib.add_member(o.worker, o.handle, stranger.account["handle"], pins=PinStore(None))
    assert o.read(stranger)["files"] == o.files
    # Two admins: one may step down; then the last one may not.
    orglib.change_role(o.worker, o.handle, o.admin.account["handle"], "worker")
    with pytest.raises(ApiError) as caught:
        orglib.change_role(o.worker, o.handle, worker, "worker")
    assert caught.value.status == 409 and "last admin" in caught.value.message
    missing = call(o.worker.api.token, f"{API}/orgs/{o.handle}/members/nobody-1/role", "admin")
    assert missing.status_code == 404
    events = [(e["event"], e["subject"]) for e in orglib.org_events(o.worker, o.handle)]
    assert ("role_changed", worker) in events
    assert ("role_changed", o.admin.account["handle"]) in events


# --- team rotation -------------------------------------------------------------------------


def test_removed_member_cannot_fetch_anything_after_the_removal(office: Office) -> None:
    o = office
    url = o.app.database.url
    # What the leaver held before the removal: the team key and everything already fetched.
    old_team = orglib.team_key(o.leaver, o.handle)
    assert o.read(o.leaver)["files"] == o.files

    rotation = orglib.remove_member(o.admin, o.handle, o.leaver.account["handle"],
                                    pins=PinStore(None))  # fmt: skip
    assert (rotation.members, rotation.grants, rotation.documents, rotation.fields) == (2, 1, 2, 1)
    assert rotation.epoch == 2

    # The server refuses the leaver at once, exactly as if the office did not exist.
    assert_like_unknown(o, o.leaver.api.token)
    assert received(o.leaver, PinStore(None)) == []
    assert o.leaver.api.api("GET", "/orgs").json() == []

    # Members, including one added after the grant and after the rotation, still read.
    newcomer = o.app.new_vault()
    orglib.add_member(o.admin, o.handle, newcomer.account["handle"], pins=PinStore(None))
    for member in (o.admin, o.worker, newcomer):
        assert o.read(member)["files"] == o.files

    # The owner adds a payslip after the removal: the owner's client follows the signed chain
    # from the team key its grant names to the new one, with no new safety code check.
    june = write_file(o.tmp / "june.pdf", "payslip june")
    june_id, _ = o.owner.upload(june, "payslip", "Payslip June")
    assert o.read(o.worker)["files"]["Payslip June"] == june.read_bytes()

    # Anything fetched after the removal is sealed to a key the leaver never had: the wraps
    # a remaining member gets now (and every row in the database) do not open with the old
    # team key.
    fetched = o.worker.api.api("GET", f"/received/{o.grant_id}/documents").json()
    assert {item["document_id"] for item in fetched} == {o.payslip_id, o.lease_id, june_id}
    for item in fetched:
        for key_id in (old_team.key_id, orglib.team_key(o.worker, o.handle).key_id):
            with pytest.raises(UnwrapError):
                open_sealed(
                    old_team.encryption_key,
                    b64d(item["wrapped_key"]),
                    document_key_info(item["document_id"], item["version"], key_id),
                )
    with database(url) as db:
        wraps = db.exec(select(KeyWrap).where(KeyWrap.grant_id == o.grant_id)).all()
        assert {w.recipient_key_id for w in wraps} == {rotation.team_key_id}
        copies = db.exec(select(OrgMember).where(OrgMember.org_id == o.org_id)).all()
        assert o.leaver.account["id"] not in {c.account_id for c in copies}
        assert {c.team_key_id for c in copies} == {rotation.team_key_id}
        grant = db.get(Grant, o.grant_id)
        assert grant is not None and grant.grantee_key_id == rotation.team_key_id
    with pytest.raises(UnwrapError):
        open_sealed(
            old_team.encryption_key,
            grant.sealed_for_grantee,
            f"wallet/v1/grant|{o.grant_id}|{old_team.key_id}".encode(),
        )
    # The owner's journal says the team key changed (membership itself is the office's own
    # audit, not the owner's data).
    rotated = [e for e in fetch_entries(o.owner) if e["event"] == "org_key_rotated"]
    assert len(rotated) == 1 and rotated[0]["subject_id"] == o.org_id
    assert json.loads(rotated[0]["details"]) == {"documents": 2, "grants": 1}  # at the time
    assert rotated[0]["actor_id"] == o.admin.account["id"]


def test_a_key_resealed_by_an_admin_must_be_the_one_the_owner_signed(office: Office) -> None:
    """Owners sign the document key itself (its public half) for a team, so an admin or a
    server that reseals another key during a rotation is caught by every member."""
    o = office
    team = orglib.team_key(o.admin, o.handle)
    other = age.new_identity()
    with database(o.app.database.url) as db:
        wrap = db.exec(select(KeyWrap).where(KeyWrap.grant_id == o.grant_id)).first()
        assert wrap is not None
        version = wrap.version_id
        from wallet.documents.models import DocumentVersion

        row = db.get(DocumentVersion, version)
        assert row is not None
        from wallet.crypto.wrap import seal

        wrap.wrapped_key = seal(
            team.keys.public_encryption_key,
            str(other).encode(),
            document_key_info(row.document_id, row.version, team.key_id),
        )
        db.add(wrap)
        db.commit()
    with pytest.raises(IntegrityFailure):
        o.read(o.worker)


def test_a_failed_or_partial_rotation_changes_nothing(office: Office) -> None:
    o = office
    url = o.app.database.url

    def snapshot() -> Any:
        with database(url) as db:
            return (
                sorted((w.id, w.wrapped_key, w.recipient_key_id) for w in db.exec(select(KeyWrap))),
                sorted((m.account_id, m.sealed_team_key) for m in db.exec(select(OrgMember))),
                sorted(
                    (g.id, g.sealed_for_grantee, g.grantee_key_id) for g in db.exec(select(Grant))
                ),
                sorted((f.id, f.wrapped_key) for f in db.exec(select(GrantFieldWrap))),
                db.exec(select(func.count()).select_from(OrgTeamKey)).one(),
                db.get(Organisation, o.org_id).epoch,  # type: ignore[union-attr]
            )

    # Build a correct rotation body by running the client against a copy of the request.
    captured: dict[str, Any] = {}
    original = type(o.admin.api).request

    def capture(method: str, path: str, **kwargs: Any) -> Any:
        if path.endswith("/rotate"):
            captured.update(kwargs["json"])
            raise ApiError(599, "captured")
        return original(o.admin.api, method, path, **kwargs)

    o.admin.api.request = capture  # type: ignore[method-assign]
    with pytest.raises(ApiError):
        orglib.remove_member(o.admin, o.handle, o.leaver.account["handle"], pins=PinStore(None))
    o.admin.api.__dict__.pop("request")
    assert len(captured["document_wraps"]) == 2

    before = snapshot()
    rotate_path = f"{API}/orgs/{o.handle}/rotate"
    broken: list[tuple[dict[str, Any], int]] = [
        ({**captured, "document_wraps": captured["document_wraps"][:1]}, 409),  # one missing
        ({**captured, "field_wraps": []}, 409),
        ({**captured, "grants": []}, 409),
        ({**captured, "copies": captured["copies"][:1]}, 409),  # a member left without key
        (
            {
                **captured,
                "document_wraps": captured["document_wraps"]
                + [{"id": unknown_id(), "wrapped_key": "AAAA"}],
            },
            409,
        ),  # fmt: skip
        ({**captured, "previous_team_key_id": unknown_id()}, 409),  # stale
        ({**captured, "team_key": {**captured["team_key"], "signature": b64e(bytes(64))}}, 422),
        (
            {**captured, "copies": [{**c, "sealed_team_key": "AAAA"} for c in captured["copies"]]},
            422,
        ),  # fmt: skip
        ({**captured, "remove": "nobody-here"}, 404),
        ({**captured, "document_wraps": [{"id": "x"}]}, 422),  # malformed
    ]
    for body, status in broken:
        answer = o.admin.api.request("POST", rotate_path, json=body, ok=(status,))
        assert answer.json()["detail"], answer.text
        assert snapshot() == before
    # A rotation finished in between makes the captured body stale as a whole.
    o.admin.api.request("POST", rotate_path, json=captured, ok=(200,))
    after = snapshot()
    assert after != before
    again = o.admin.api.request("POST", rotate_path, json=captured, ok=(409,))
    assert "changed while you worked" in again.json()["detail"]
    assert snapshot() == after
    assert o.read(o.worker)["files"] == o.files


def test_a_grant_sealed_to_a_stale_team_key_is_refused(office: Office) -> None:
    o = office
    # The owner's client checked the team key; then the office changed staff.
    stale = orglib.verified_team(o.owner, o.handle)
    orglib.remove_member(o.admin, o.handle, o.leaver.account["handle"], pins=PinStore(None))
    with pytest.raises(ApiError) as caught:
        _give(
            o.owner,
            stale.as_grantee(),
            {"grantee": stale.handle, "grantee_org": stale.id},
            {"grantee_org": stale.handle},
            purpose="x",
            document_ids=[o.lease_id],
            types=None,
            fields=None,
            expires_at=None,
            code=stale.safety_code,
            first=False,
            team=True,
        )
    assert caught.value.status == 409
    assert "team key" in caught.value.message and "safety code" in caught.value.message
    # New wraps sealed to the old key for an existing grant are refused the same way.
    with pytest.raises(ApiError) as caught:
        o.owner.api.api(
            "POST",
            f"/grants/{o.grant_id}/wraps",
            json={"wraps": [], "field_wraps": [], "grantee_key_id": stale.key_id},
        )
    assert caught.value.status == 409
    # Asked again, the client follows the chain and the grant goes through.
    grant = create_org_grant(o.owner, o.handle, purpose="x", document_ids=[o.lease_id],
                             pins=PinStore(None))  # fmt: skip
    assert grant.documents == 1


def test_a_team_key_the_chain_does_not_vouch_for_is_refused(office: Office) -> None:
    """A server that serves its own team key (or drops the chain) receives no new document key."""
    o = office
    pins = PinStore(o.tmp / "owner-pins.json")
    orglib.verified_team(o.owner, o.handle, pins=pins)
    fake = AccountKeys.generate()
    with database(o.app.database.url) as db:
        key = db.exec(select(OrgTeamKey).where(OrgTeamKey.org_id == o.org_id)).one()
        key.public_encryption_key = fake.public_encryption_key
        key.public_signing_key = fake.public_signing_key
        key.key_id = fake.key_id
        db.add(key)
        org = db.get(Organisation, o.org_id)
        assert org is not None
        org.team_key_id = fake.key_id
        db.add(org)
        db.exec(  # type: ignore[call-overload]
            Grant.__table__.update()  # type: ignore[attr-defined]
            .where(col(Grant.id) == o.grant_id)
            .values(grantee_key_id=fake.key_id)
        )
        db.commit()
    with pytest.raises(KeyChanged):
        orglib.verified_team(o.owner, o.handle, pins=pins)
    before = o.owner.api.api("GET", "/grants").json()[0]["documents"]
    with pytest.raises(KeyChanged):
        o.owner.upload(write_file(o.tmp / "july.pdf", "july"), "payslip", "Payslip July")
    assert o.owner.api.api("GET", "/grants").json()[0]["documents"] == before


# --- authorization: rightful caller, unrelated account (404 as unknown), no session (401) ---


def test_authorization_of_every_organisation_endpoint(office: Office) -> None:
    o = office
    http = o.app.client
    stranger = o.app.new_vault()
    newcomer = o.app.new_vault()
    team = orglib.team_key(o.admin, o.handle)
    member_body = {
        "role": "worker",
        "copy_for_member": orglib._sealed_copy(
            o.admin,
            o.org_id,
            team.keys,
            {
                "handle": newcomer.account["handle"],
                "key_id": newcomer.keys.key_id,
                "public_encryption_key": b64e(newcomer.keys.public_encryption_key),
            },
        ),
    }
    unknown = f"nowhere-{secrets.token_hex(3)}"

    def call(token: str | None, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return http.request(method, path, headers=headers, json=body)

    # No session: 401 everywhere.
    for endpoint in sorted(AUTHZ_COVERED):
        method, template = endpoint.split(" ")
        path = template.replace("{org}", o.handle)
        answer = call(None, method, path, {} if method == "POST" else None)
        assert answer.status_code == 401, endpoint

    # An unrelated account: member endpoints answer exactly as for an unknown organisation.
    for method, suffix, body in [
        ("GET", "", None),
        ("GET", "/events", None),
        ("GET", "/wraps", None),
        ("POST", "/members", member_body),
        (
            "POST",
            "/rotate",
            {
                "previous_team_key_id": team.key_id,
                "team_key": {
                    "key_id": team.key_id,
                    "public_encryption_key": b64e(bytes(32)),
                    "public_signing_key": b64e(bytes(32)),
                    "statement": "",
                    "signature": b64e(bytes(64)),
                },
                "copies": [],
            },
        ),  # fmt: skip
    ]:
        real = call(stranger.api.token, method, f"{API}/orgs/{o.handle}{suffix}", body)
        twin = call(stranger.api.token, method, f"{API}/orgs/{unknown}{suffix}", body)
        assert real.status_code == twin.status_code == 404, (suffix, real.text)
        assert real.json() == twin.json()
    assert call(stranger.api.token, "GET", f"{API}/orgs").json() == []
    # The public lookup: known names answer anyone logged in; unknown ones a plain 404.
    assert call(stranger.api.token, "GET", f"{API}/orgs/{o.handle}/public").status_code == 200
    missing = call(stranger.api.token, "GET", f"{API}/orgs/{unknown}/public")
    assert missing.status_code == 404 and "no organisation" in missing.json()["detail"]

    # The rightful callers.
    assert call(o.worker.api.token, "GET", f"{API}/orgs").json()[0]["handle"] == o.handle
    assert call(o.worker.api.token, "GET", f"{API}/orgs/{o.handle}").status_code == 200
    assert call(o.worker.api.token, "GET", f"{API}/orgs/{o.handle}/events").status_code == 200
    assert call(o.admin.api.token, "GET", f"{API}/orgs/{o.handle}/wraps").status_code == 200
    added = call(o.admin.api.token, "POST", f"{API}/orgs/{o.handle}/members", member_body)
    assert added.status_code == 201, added.text
    rotation = orglib.rotate(o.admin, o.handle, pins=PinStore(None))  # POST /rotate
    assert rotation.members == 4
    created = orglib.create_org(stranger, "Shelter Nord")  # POST /orgs
    assert created.handle == "shelter-nord"
    # A second office with the same name gets its own handle.
    assert orglib.create_org(stranger, "Shelter  Nord").handle == "shelter-nord-2"


# --- the CLI, as an office and a person use it ---------------------------------------------


def test_cli_office_story(cli_env: dict[str, str], tmp_path: Path) -> None:
    def person(name: str) -> tuple[dict[str, str], str]:
        env = {**cli_env, "WALLET_HOME": str(tmp_path / f"home-{name}")}
        handle = f"{name}-{secrets.token_hex(3)}"
        run_cli(env, "account", "create", "--handle", handle)
        return env, handle

    admin, admin_handle = person("admin")
    worker, worker_handle = person("worker")
    leaver, leaver_handle = person("leaver")
    owner, _owner_handle = person("owner")
    office_name = f"CPAS Example {secrets.token_hex(2)}"
    created = run_cli(admin, "org", "create", office_name).stdout
    handle = created.splitlines()[0].split(": ")[1]
    code = created.splitlines()[1].split(": ")[1]
    for who in (worker_handle, leaver_handle):
        added = run_cli(admin, "org", "member", "add", handle, who).stdout
        assert f"{who} is now worker of {handle}" in added
    assert "you: worker" in run_cli(worker, "org", "ls").stdout

    source = write_file(tmp_path / "payslip.pdf", "payslip")
    run_cli(owner, "upload", str(source), "--type", "payslip", "--title", "Payslip March")
    given = run_cli(owner, "grant", "create", "--to-org", handle, "--types", "payslip",
                    "--purpose", "Income file").stdout  # fmt: skip
    assert f"Team safety code of {handle}: {code}" in given
    assert "First time with this organisation" in given
    grant_id = given.split("Grant id: ")[1].split()[0]

    listing = json.loads(run_cli(worker, "received", "ls", "--json").stdout)
    [entry] = [g for g in listing if g["grant_id"] == grant_id]
    assert entry["via_org"] == handle and entry["documents"][0]["title"] == "Payslip March"
    doc_id = entry["documents"][0]["id"]
    out = tmp_path / "out.pdf"
    run_cli(leaver, "received", "get", grant_id, doc_id, "-o", str(out))
    assert out.read_bytes() == source.read_bytes()

    removed = run_cli(admin, "org", "member", "remove", handle, leaver_handle).stdout
    assert "no longer a member" in removed and "1 document key(s)" in removed
    refused = run_cli(leaver, "received", "get", grant_id, doc_id, "-o", str(tmp_path / "x"),
                      check=False)  # fmt: skip
    assert_plain_failure(refused, "does not exist or has ended")
    run_cli(worker, "received", "get", grant_id, doc_id, "-o", str(tmp_path / "y.pdf"))
    assert (tmp_path / "y.pdf").read_bytes() == source.read_bytes()
    # The owner's next payslip reaches the office after the change of staff.
    run_cli(owner, "upload", str(write_file(tmp_path / "p2.pdf", "p2")), "--type", "payslip",
            "--title", "Payslip April")  # fmt: skip
    titles = [
        d["title"]
        for g in json.loads(run_cli(worker, "received", "ls", "--json").stdout)
        for d in g["documents"]
    ]
    assert "Payslip April" in titles

    unknown = run_cli(owner, "grant", "create", "--to-org", "no-such-office", "--types",
                      "payslip", "--purpose", "x", check=False)  # fmt: skip
    assert_plain_failure(unknown, "We know no organisation by this name")
    not_admin = run_cli(worker, "org", "member", "add", handle, admin_handle, check=False)
    assert_plain_failure(not_admin, "Only an admin")
    # A former member sees what anyone sees: the public view, no members, no team key.
    stranger = run_cli(leaver, "org", "show", handle).stdout
    assert f"Admins: {admin_handle}" in stranger and worker_handle not in stranger
    assert "you are" not in stranger
