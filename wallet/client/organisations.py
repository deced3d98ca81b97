"""Organisations on the client: team keys, members, rotation, and the owner's check of a team.

The team key is a key pair like an account's (X25519 for HPKE, Ed25519 for signing), made by an
admin's client. Its private half is HPKE-sealed to each member's account key and signed by the
admin who sealed it; the server never holds it in clear. Every new team key is announced by a
statement signed with the previous team signing key, so an owner who compared a safety code
once can follow the chain across changes of staff without comparing again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from wallet.client.contacts import KeyChanged, PinStore, person, safety_code
from wallet.client.vault import IntegrityFailure, Vault, VaultError
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.keys import AccountKeys
from wallet.crypto.signing import BadSignature, sign, verify
from wallet.crypto.wrap import (
    UnwrapError,
    document_key_info,
    key_id,
    open_sealed,
    profile_field_info,
    seal,
)
from wallet.protocol import labels, statements

TEAM_CHANGED = (
    "WARNING: the server shows a team key for {org} that does not follow from the one you "
    "checked. This can mean someone is trying to read what you share. Check the safety code "
    "with the organisation, face to face, before you go on."
)


def team_seal_info(org_id: str, team_key_id: str, member_key_id: str) -> bytes:
    return labels.info(labels.TEAM_KEY, org_id, team_key_id, member_key_id)


def grant_descriptor_info(grant_id: str, recipient_key_id: str) -> bytes:
    return labels.info(labels.GRANT, grant_id, recipient_key_id)


@dataclass(frozen=True)
class TeamKey:
    """An opened team key: what a member uses to read grants to the organisation."""

    org_id: str
    handle: str
    keys: AccountKeys

    @property
    def key_id(self) -> str:
        return self.keys.key_id

    @property
    def encryption_key(self) -> X25519PrivateKey:
        return self.keys.encryption_key


def team_safety_code(public_encryption_key: bytes, public_signing_key: bytes) -> str:
    return safety_code(public_encryption_key, public_signing_key)


def _team_key_statement(
    admin: Vault, org_id: str, epoch: int, team: AccountKeys, previous: dict[str, Any] | None
) -> dict[str, Any]:
    return statements.TEAM_KEY.build(
        org_id=org_id,
        epoch=epoch,
        key_id=team.key_id,
        public_encryption_key_sha256=hashlib.sha256(team.public_encryption_key).hexdigest(),
        public_signing_key_sha256=hashlib.sha256(team.public_signing_key).hexdigest(),
        previous_key_id=previous["key_id"] if previous else None,
        admin=admin.account["handle"],
    )


def _team_key_body(
    admin: Vault,
    org_id: str,
    epoch: int,
    team: AccountKeys,
    previous: dict[str, Any] | None,
    previous_keys: AccountKeys | None,
) -> dict[str, Any]:
    # The first key signs itself; every later one is signed by the key before it.
    signer = previous_keys.signing_key if previous_keys else team.signing_key
    message, signature = sign(signer, _team_key_statement(admin, org_id, epoch, team, previous))
    return {
        "key_id": team.key_id,
        "public_encryption_key": b64e(team.public_encryption_key),
        "public_signing_key": b64e(team.public_signing_key),
        "statement": b64e(message),
        "signature": b64e(signature),
    }


def _sealed_copy(
    admin: Vault, org_id: str, team: AccountKeys, member: dict[str, Any]
) -> dict[str, Any]:
    """The team's private keys sealed to one member, signed by this admin."""
    sealed = seal(
        b64d(member["public_encryption_key"]),
        team.to_bytes(),
        team_seal_info(org_id, team.key_id, member["key_id"]),
    )
    message, signature = sign(
        admin.keys.signing_key,
        statements.TEAM_KEY_SEAL.build(
            org_id=org_id,
            team_key_id=team.key_id,
            member=member["handle"],
            member_key_id=member["key_id"],
            sealed_sha256=hashlib.sha256(sealed).hexdigest(),
            admin=admin.account["handle"],
        ),
    )
    return {
        "handle": member["handle"],
        "member_key_id": member["key_id"],
        "sealed_team_key": b64e(sealed),
        "statement": b64e(message),
        "signature": b64e(signature),
    }


def _own_keys(vault: Vault) -> dict[str, Any]:
    return {
        "handle": vault.account["handle"],
        "key_id": vault.keys.key_id,
        "public_encryption_key": b64e(vault.keys.public_encryption_key),
        "public_signing_key": b64e(vault.keys.public_signing_key),
    }


@dataclass
class CreatedOrg:
    id: str
    handle: str
    safety_code: str


def create_org(vault: Vault, display_name: str) -> CreatedOrg:
    if len(" ".join(display_name.split())) < 2:
        raise VaultError("Give the organisation a name of at least 2 letters.")
    org_id = uuid.uuid4().hex
    team = AccountKeys.generate()
    created = vault.api.api(
        "POST",
        "/orgs",
        json={
            "org_id": org_id,
            "display_name": display_name,
            "team_key": _team_key_body(vault, org_id, 1, team, None, None),
            "creator_copy": _sealed_copy(vault, org_id, team, _own_keys(vault)),
        },
    ).json()
    code = team_safety_code(team.public_encryption_key, team.public_signing_key)
    return CreatedOrg(created["id"], created["handle"], code)


def my_orgs(vault: Vault) -> list[dict[str, Any]]:
    return vault.api.api("GET", "/orgs").json()


def org_detail(vault: Vault, org: str) -> dict[str, Any]:
    return vault.api.api("GET", f"/orgs/{org.strip().lower()}").json()


def open_team_key(vault: Vault, detail: dict[str, Any], pins: PinStore | None = None) -> TeamKey:
    """Opens this member's copy of the team key: the admin's signature first (the admin's keys
    are pinned like any person's), then the seal, then the keys must be the served team key."""
    copy = detail["my_copy"]
    sealer = copy["sealed_by"]
    if sealer["key_id"] != key_id(b64d(sealer["public_encryption_key"])):
        raise IntegrityFailure("The team key was changed on the server. Do not trust it.")
    if sealer["handle"] != vault.account["handle"]:
        (pins or PinStore(None)).check(sealer["handle"], sealer)
    sealed = b64d(copy["sealed_team_key"])
    try:
        verify(b64d(sealer["public_signing_key"]), b64d(copy["statement"]), b64d(copy["signature"]))
        statement = json.loads(b64d(copy["statement"]))
        if statement != statements.TEAM_KEY_SEAL.build(
            org_id=detail["id"],
            team_key_id=copy["team_key_id"],
            member=vault.account["handle"],
            member_key_id=vault.keys.key_id,
            sealed_sha256=hashlib.sha256(sealed).hexdigest(),
            admin=sealer["handle"],
        ):
            raise BadSignature("statement does not fit")
        team = AccountKeys.from_bytes(
            open_sealed(
                vault.keys.encryption_key,
                sealed,
                team_seal_info(detail["id"], copy["team_key_id"], vault.keys.key_id),
            )
        )
    except (BadSignature, UnwrapError, ValueError, KeyError) as exc:
        raise IntegrityFailure("The team key was changed on the server. Do not trust it.") from exc
    served = detail["team_key"]
    if (
        team.key_id != copy["team_key_id"]
        or team.key_id != served["key_id"]
        or b64d(served["public_encryption_key"]) != team.public_encryption_key
        or b64d(served["public_signing_key"]) != team.public_signing_key
    ):
        raise IntegrityFailure("The team key was changed on the server. Do not trust it.")
    return TeamKey(detail["id"], detail["handle"], team)


def team_key(vault: Vault, org: str, pins: PinStore | None = None) -> TeamKey:
    return open_team_key(vault, org_detail(vault, org), pins)


def add_member(
    vault: Vault,
    org: str,
    handle: str,
    *,
    role: str = "worker",
    pins: PinStore,
    accept_new_key: bool = False,
) -> tuple[dict[str, Any], bool]:
    """Seals the team key to a new member (whose key is pinned like a grantee's)."""
    if role not in ("admin", "worker"):
        raise VaultError("The role is admin or worker.")
    detail = org_detail(vault, org)
    if detail["role"] != "admin":
        raise VaultError("Only an admin of this organisation can add members.")
    team = open_team_key(vault, detail, pins)
    member, first = person(vault, handle, pins, accept_new_key)
    vault.api.api(
        "POST",
        f"/orgs/{detail['handle']}/members",
        json={
            "role": role,
            "copy_for_member": _sealed_copy(vault, detail["id"], team.keys, member),
        },
    )
    return member, first


def change_role(vault: Vault, org: str, handle: str, role: str) -> dict[str, str]:
    """Makes a member an admin or a worker. No key changes: both roles hold the team key."""
    if role not in ("admin", "worker"):
        raise VaultError("The role is admin or worker.")
    wanted = handle.strip().lower()
    return vault.api.api(
        "POST", f"/orgs/{org.strip().lower()}/members/{wanted}/role", json={"role": role}
    ).json()


@dataclass
class Rotation:
    epoch: int
    team_key_id: str
    members: int
    grants: int
    documents: int
    fields: int
    bytes_sent: int
    safety_code: str


def rotate(
    vault: Vault,
    org: str,
    *,
    remove: str | None = None,
    pins: PinStore,
    accept_new_keys: bool = False,
) -> Rotation:
    """A new team key for the members who stay, and every key the old one protected resealed
    to it, sent in one request. The server swaps it all in at once, or changes nothing."""
    detail = org_detail(vault, org)
    if detail["role"] != "admin":
        raise VaultError("Only an admin of this organisation can remove members.")
    old = open_team_key(vault, detail, pins)
    remove = remove.strip().lower() if remove else None
    handles = [m["keys"]["handle"] for m in detail["members"]]
    if remove is not None and remove not in handles:
        raise VaultError(f"{remove} is not a member of {detail['handle']}.")
    wraps = vault.api.api("GET", f"/orgs/{detail['handle']}/wraps").json()
    if wraps["team_key_id"] != old.key_id:
        raise VaultError("The team key changed while you worked. Run the command again.")
    new = AccountKeys.generate()
    new_id = new.key_id
    copies = []
    for member in detail["members"]:
        keys = member["keys"]
        if keys["handle"] == remove:
            continue
        if keys["key_id"] != key_id(b64d(keys["public_encryption_key"])):
            raise KeyChanged(f"The server answered for someone else than {keys['handle']}.")
        if keys["handle"] != vault.account["handle"]:
            # Pinned like a grantee: a server that swaps a member's key gets no team key.
            pins.check(keys["handle"], keys, accept_new_keys)
        copies.append(_sealed_copy(vault, detail["id"], new, keys))
    new_public = new.public_encryption_key
    grants = []
    for grant in wraps["grants"]:
        try:
            descriptor = open_sealed(
                old.encryption_key,
                b64d(grant["sealed_for_grantee"]),
                grant_descriptor_info(grant["grant_id"], old.key_id),
            )
        except UnwrapError as exc:
            raise IntegrityFailure("A grant to the team was changed on the server.") from exc
        sealed = seal(new_public, descriptor, grant_descriptor_info(grant["grant_id"], new_id))
        grants.append({"grant_id": grant["grant_id"], "sealed_for_grantee": b64e(sealed)})
    documents = []
    for wrap in wraps["document_wraps"]:
        try:
            secret = open_sealed(
                old.encryption_key,
                b64d(wrap["wrapped_key"]),
                document_key_info(wrap["document_id"], wrap["version"], old.key_id),
            )
        except UnwrapError as exc:
            raise IntegrityFailure("A document key of the team was changed on the server.") from exc
        resealed = seal(
            new_public, secret, document_key_info(wrap["document_id"], wrap["version"], new_id)
        )
        documents.append({"id": wrap["id"], "wrapped_key": b64e(resealed)})
    fields = []
    for wrap in wraps["field_wraps"]:
        try:
            secret = open_sealed(
                old.encryption_key,
                b64d(wrap["wrapped_key"]),
                profile_field_info(wrap["slot"], old.key_id),
            )
        except UnwrapError as exc:
            raise IntegrityFailure("A profile key of the team was changed on the server.") from exc
        resealed = seal(new_public, secret, profile_field_info(wrap["slot"], new_id))
        fields.append({"id": wrap["id"], "wrapped_key": b64e(resealed)})
    body = {
        "previous_team_key_id": old.key_id,
        "remove": remove,
        "team_key": _team_key_body(
            vault, detail["id"], detail["epoch"] + 1, new, detail["team_key"], old.keys
        ),
        "copies": copies,
        "grants": grants,
        "document_wraps": documents,
        "field_wraps": fields,
    }
    response = vault.api.api("POST", f"/orgs/{detail['handle']}/rotate", json=body)
    done = response.json()
    return Rotation(
        epoch=done["epoch"],
        team_key_id=done["team_key_id"],
        members=len(copies),
        grants=len(grants),
        documents=len(documents),
        fields=len(fields),
        bytes_sent=len(response.request.content or b""),
        safety_code=team_safety_code(new.public_encryption_key, new.public_signing_key),
    )


def remove_member(vault: Vault, org: str, handle: str, *, pins: PinStore) -> Rotation:
    return rotate(vault, org, remove=handle, pins=pins)


# --- the owner's side: which team key to seal to -----------------------------------------


def _check_chain(public: dict[str, Any], anchor_key_id: str) -> dict[str, Any]:
    """Walks the team keys from the one the owner trusts to the current one; each must be
    announced by a statement signed with the key before it. Returns the current key."""
    chain = public["team_keys"]
    start = next((i for i, k in enumerate(chain) if k["key_id"] == anchor_key_id), None)
    if start is None:
        raise KeyChanged(TEAM_CHANGED.format(org=public["handle"]))
    for index, key in enumerate(chain):
        encryption = b64d(key["public_encryption_key"])
        signing = b64d(key["public_signing_key"])
        if key["key_id"] != key_id(encryption) or key["epoch"] != index + 1:
            raise KeyChanged(TEAM_CHANGED.format(org=public["handle"]))
        if index <= start:
            continue
        before = chain[index - 1]
        try:
            verify(
                b64d(before["public_signing_key"]), b64d(key["statement"]), b64d(key["signature"])
            )
            statement = json.loads(b64d(key["statement"]))
        except (BadSignature, ValueError) as exc:
            raise KeyChanged(TEAM_CHANGED.format(org=public["handle"])) from exc
        if (
            statement.get("kind") != statements.TEAM_KEY.kind
            or statement.get("org_id") != public["id"]
            or statement.get("epoch") != key["epoch"]
            or statement.get("key_id") != key["key_id"]
            or statement.get("previous_key_id") != before["key_id"]
            or statement.get("public_encryption_key_sha256")
            != hashlib.sha256(encryption).hexdigest()
            or statement.get("public_signing_key_sha256") != hashlib.sha256(signing).hexdigest()
        ):
            raise KeyChanged(TEAM_CHANGED.format(org=public["handle"]))
    return chain[-1]


@dataclass
class VerifiedTeam:
    id: str
    handle: str
    display_name: str
    key_id: str
    public_encryption_key: bytes
    public_signing_key: bytes
    first_contact: bool
    # Who answers for the office (as the server says: check them with the office).
    admins: tuple[str, ...] = ()

    @property
    def safety_code(self) -> str:
        return team_safety_code(self.public_encryption_key, self.public_signing_key)

    def as_grantee(self) -> dict[str, Any]:
        return {
            "handle": self.handle,
            "key_id": self.key_id,
            "public_encryption_key": b64e(self.public_encryption_key),
            "public_signing_key": b64e(self.public_signing_key),
        }


def public_team(vault: Vault, org: str) -> dict[str, Any]:
    return vault.api.api("GET", f"/orgs/{org.strip().lower()}/public").json()


def verified_team(
    vault: Vault,
    org: str,
    *,
    pins: PinStore | None = None,
    anchor_key_id: str | None = None,
    accept_new_key: bool = False,
) -> VerifiedTeam:
    """The organisation's current team key, trusted because it follows from a key this owner
    trusts: `anchor_key_id` (the one an owner-signed grant names) or the pinned one. The first
    time, the current key is pinned and its safety code must be compared in person."""
    public = public_team(vault, org)
    if public["handle"] != org.strip().lower() and public["id"] != org.strip().lower():
        raise KeyChanged(f"The server answered for another organisation than {org}. Report this.")
    pin_name = f"org:{public['id']}"
    first = False
    anchor = anchor_key_id
    if anchor is None and pins is not None:
        anchor = pins.pins.get(pin_name)
        if anchor is None or accept_new_key:
            anchor, first = public["team_keys"][-1]["key_id"], anchor is None
    if anchor is None:
        anchor, first = public["team_keys"][-1]["key_id"], True
    current = _check_chain(public, anchor)
    if pins is not None:
        pins.pins[pin_name] = current["key_id"]
        if pins.path:
            pins.path.parent.mkdir(parents=True, exist_ok=True)
            pins.path.write_text(json.dumps(pins.pins, indent=2))
    return VerifiedTeam(
        public["id"],
        public["handle"],
        public["display_name"],
        current["key_id"],
        b64d(current["public_encryption_key"]),
        b64d(current["public_signing_key"]),
        first,
        tuple(public.get("admins", ())),
    )


def org_events(vault: Vault, org: str) -> list[dict[str, Any]]:
    return vault.api.api("GET", f"/orgs/{org.strip().lower()}/events").json()
