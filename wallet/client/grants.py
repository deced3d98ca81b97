"""Standing grants on the client: the owner gives, the grantee reads, keys are pinned."""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wallet.client.contacts import KeyChanged, PinStore, person, safety_code
from wallet.client.organisations import team_key, verified_team
from wallet.client.transfer import WrongSize, download_to
from wallet.client.vault import (
    IntegrityFailure,
    Vault,
    VaultError,
    VersionInfo,
    check_profile_field,
    check_scope,
)
from wallet.client.vaulthead import check_counterpart
from wallet.crypto import age
from wallet.crypto.encoding import b64d, b64e
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

DOWNLOADED_COPIES = (
    "Copies the person already downloaded cannot be taken back. Revoking stops new access only."
)


def grant_info(grant_id: str, recipient_key_id: str) -> bytes:
    return labels.info(labels.GRANT, grant_id, recipient_key_id)


def key_sha256(identity: Any) -> str:
    """Names a document or field key by its public half: what the owner signs for a team, so
    the statement stays true when an admin reseals the key to a new team key."""
    return hashlib.sha256(str(age.recipient_of(identity)).encode()).hexdigest()


def _wrap_for(
    vault: Vault,
    grant_id: str,
    grantee: dict[str, Any],
    document_id: str,
    version: int,
    identity: Any,
    team: bool = False,
    manifest_sha256: str = "",
) -> dict[str, Any]:
    """Seals a version's key to the grantee, with the owner's signed statement binding the wrap
    to this grant; the blob itself is bound by the version's own signed manifest. For a team
    the statement binds the key itself (its public half), not the wrap, which rotations redo.
    The statement also names the manifest's hash: the owner vouches for it even when a proxy
    signed it (a document added on the owner's behalf)."""
    wrapped = seal(
        b64d(grantee["public_encryption_key"]),
        str(identity).encode(),
        document_key_info(document_id, version, grantee["key_id"]),
    )
    vouched = {"manifest_sha256": manifest_sha256} if manifest_sha256 else {}
    fields = {"grant_id": grant_id, "document_id": document_id, "version": version, **vouched}
    statement, signature = sign(
        vault.keys.signing_key,
        statements.GRANT_WRAP_TEAM.build(**fields, key_sha256=key_sha256(identity))
        if team
        else statements.GRANT_WRAP.build(**fields, wrap_sha256=hashlib.sha256(wrapped).hexdigest()),
    )
    return {
        "document_id": document_id,
        "version": version,
        "wrapped_key": b64e(wrapped),
        "statement": b64e(statement),
        "statement_signature": b64e(signature),
    }


def _field_wraps(
    vault: Vault, grant_id: str, grantee: dict[str, Any], names: list[str], team: bool = False
) -> list[dict[str, str]]:
    identities = vault.profile_identities()
    wraps = []
    for name in names:
        if name not in identities:
            continue
        slot, identity = identities[name]
        wrapped = seal(
            b64d(grantee["public_encryption_key"]),
            str(identity).encode(),
            profile_field_info(slot, grantee["key_id"]),
        )
        statement, signature = sign(
            vault.keys.signing_key,
            statements.GRANT_FIELD_TEAM.build(
                grant_id=grant_id, slot=slot, key_sha256=key_sha256(identity)
            )
            if team
            else statements.GRANT_FIELD.build(
                grant_id=grant_id, slot=slot, wrap_sha256=hashlib.sha256(wrapped).hexdigest()
            ),
        )
        wraps.append(
            {
                "slot": slot,
                "wrapped_key": b64e(wrapped),
                "statement": b64e(statement),
                "statement_signature": b64e(signature),
            }
        )
    return wraps


@dataclass
class CreatedGrant:
    id: str
    grantee: str
    safety_code: str
    first_contact: bool
    documents: int


def create_grant(
    vault: Vault,
    handle: str,
    *,
    purpose: str,
    document_ids: list[str] | None = None,
    types: list[str] | None = None,
    fields: list[str] | None = None,
    expires_at: datetime | None = None,
    pins: PinStore,
    accept_new_key: bool = False,
) -> CreatedGrant:
    _check_request(purpose, document_ids, types, fields)
    grantee, first = person(vault, handle, pins, accept_new_key)
    code = safety_code(b64d(grantee["public_encryption_key"]), b64d(grantee["public_signing_key"]))
    return _give(
        vault,
        grantee,
        {"grantee": grantee["handle"]},
        {"grantee_handle": grantee["handle"]},
        purpose=purpose,
        document_ids=document_ids,
        types=types,
        fields=fields,
        expires_at=expires_at,
        code=code,
        first=first,
    )


def create_org_grant(
    vault: Vault,
    org: str,
    *,
    purpose: str,
    document_ids: list[str] | None = None,
    types: list[str] | None = None,
    fields: list[str] | None = None,
    expires_at: datetime | None = None,
    pins: PinStore,
    accept_new_key: bool = False,
) -> CreatedGrant:
    """A standing grant to an organisation's team: readable by its members of the day."""
    _check_request(purpose, document_ids, types, fields)
    team = verified_team(vault, org, pins=pins, accept_new_key=accept_new_key)
    return _give(
        vault,
        team.as_grantee(),
        {"grantee": team.handle, "grantee_org": team.id, "grantee_org_name": team.display_name},
        {"grantee_org": team.handle},
        purpose=purpose,
        document_ids=document_ids,
        types=types,
        fields=fields,
        expires_at=expires_at,
        code=team.safety_code,
        first=team.first_contact,
        team=True,
    )


def _check_request(
    purpose: str,
    document_ids: list[str] | None,
    types: list[str] | None,
    fields: list[str] | None,
) -> None:
    if not purpose.strip():
        raise VaultError("Say what the access is for (--purpose), in a few words.")
    check_scope(types, fields)
    if not (document_ids or types or fields):
        raise VaultError("Nothing to share. Name documents, --types or --fields.")


def _give(
    vault: Vault,
    grantee: dict[str, Any],
    descriptor_grantee: dict[str, Any],
    body_grantee: dict[str, Any],
    *,
    purpose: str,
    document_ids: list[str] | None,
    types: list[str] | None,
    fields: list[str] | None,
    expires_at: datetime | None,
    code: str,
    first: bool,
    team: bool = False,
) -> CreatedGrant:
    grant_id = uuid.uuid4().hex
    scope = {
        "documents": sorted(set(document_ids or [])),
        "types": sorted(set(types or [])),
        "fields": sorted(set(fields or [])),
    }
    descriptor = statements.GRANT.build(
        grant_id=grant_id,
        owner=vault.account["handle"],
        owner_key_id=vault.keys.key_id,
        **descriptor_grantee,
        grantee_key_id=grantee["key_id"],
        purpose=purpose,
        scope=scope,
        expires_at=expires_at.isoformat() if expires_at else None,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    message, signature = sign(vault.keys.signing_key, descriptor)
    # One listing gives every current version's key: no request per document.
    documents = {d.id: d for d in vault.list_documents()}
    for document_id in scope["documents"]:
        if document_id not in documents:
            raise VaultError(f"No document {document_id}. Check the id with 'wallet ls'.")
    chosen = list(scope["documents"])
    if scope["types"]:
        chosen += [d for d in documents if documents[d].type in scope["types"] and d not in chosen]
    wraps = [
        _wrap_for(
            vault,
            grant_id,
            grantee,
            d,
            documents[d].version,
            documents[d].identity,
            team,
            documents[d].manifest_sha256,
        )
        for d in chosen
    ]
    vault.api.api(
        "POST",
        "/grants",
        json={
            "grant_id": grant_id,
            **body_grantee,
            "grantee_key_id": grantee["key_id"],
            "sealed_for_owner": b64e(
                seal(
                    vault.keys.public_encryption_key,
                    message,
                    grant_info(grant_id, vault.keys.key_id),
                )
            ),
            "sealed_for_grantee": b64e(
                seal(
                    b64d(grantee["public_encryption_key"]),
                    message,
                    grant_info(grant_id, grantee["key_id"]),
                )
            ),
            "signature": b64e(signature),
            "expires_at": expires_at.isoformat() if expires_at else None,
            "wraps": wraps,
            "field_wraps": _field_wraps(vault, grant_id, grantee, scope["fields"], team),
        },
    )
    return CreatedGrant(grant_id, grantee["handle"], code, first, len(wraps))


def _open_descriptor(
    vault: Vault, grant: dict[str, Any], signer_key: bytes, team: Any = None
) -> dict[str, Any]:
    private_key, reader_key_id = (
        (team.encryption_key, team.key_id)
        if team
        else (vault.keys.encryption_key, vault.keys.key_id)
    )
    try:
        message = open_sealed(
            private_key,
            b64d(grant["sealed"]),
            grant_info(grant["id"], reader_key_id),
        )
        verify(signer_key, message, b64d(grant["signature"]))
    except (UnwrapError, BadSignature) as exc:
        raise IntegrityFailure("A grant was changed on the server. Do not trust it.") from exc
    descriptor = json.loads(message)
    if descriptor.get("grant_id") != grant["id"]:
        raise IntegrityFailure("A grant was changed on the server. Do not trust it.")
    if team is not None and descriptor.get("grantee_org") != team.org_id:
        raise IntegrityFailure("A grant was changed on the server. Do not trust it.")
    return descriptor


def grants_given(vault: Vault) -> list[dict[str, Any]]:
    result = []
    for grant in vault.api.api("GET", "/grants").json():
        descriptor = _open_descriptor(vault, grant, vault.keys.public_signing_key)
        result.append({**grant, "descriptor": descriptor})
    return result


def revoke_grant(vault: Vault, grant_id: str) -> None:
    vault.covered_change(
        "POST", f"/grants/{grant_id}/revoke", lambda state: state.revoked_grants.add(grant_id)
    )


def _grantee_key_is_signed(grant: dict[str, Any]) -> bool:
    """The key the server serves now must be the one the owner signed the grant for: a server
    that swaps a grantee's key must not receive the keys of later documents."""
    served = key_id(b64d(grant["grantee"]["public_encryption_key"]))
    return served == grant["grantee"]["key_id"] == grant["descriptor"]["grantee_key_id"]


def _is_team(grant: dict[str, Any]) -> bool:
    return grant.get("grantee_kind") == "organisation"


def _trusted_grantee(vault: Vault, grant: dict[str, Any]) -> dict[str, Any] | None:
    """The key to seal to for this grant, or None if the server serves one the owner never
    trusted. A team's current key must follow, by signed statements, from the key the
    owner-signed grant names."""
    if not _is_team(grant):
        return grant["grantee"] if _grantee_key_is_signed(grant) else None
    organisation = grant.get("organisation") or {}
    if grant["descriptor"].get("grantee_org") != organisation.get("id"):
        return None
    try:
        team = verified_team(
            vault, organisation["id"], anchor_key_id=grant["descriptor"]["grantee_key_id"]
        )
    except KeyChanged:
        return None
    if team.key_id != grant["grantee"]["key_id"]:
        return None
    return team.as_grantee()


def _refuse_changed_keys(handles: list[str], what: str) -> None:
    if handles:
        raise KeyChanged(
            f"WARNING: the server shows a NEW key for {', '.join(sorted(set(handles)))}. {what} "
            "was saved for you but NOT shared with them. Check the safety code with the person, "
            "face to face, then give the access again."
        )


def _still_given(vault: Vault, grant: dict[str, Any], revived: list[str]) -> bool:
    """Active for the server, not past the expiry the owner signed, and not revoked in the
    owner's signed head (a server cannot revive a grant to collect new keys: `revived` gets
    its id)."""
    expires = grant["descriptor"].get("expires_at")
    if expires and datetime.fromisoformat(expires) <= datetime.now(UTC):
        return False
    if grant["state"] != "active":
        return False
    if vault.is_revoked("grants", grant["id"]):
        revived.append(grant["id"])
        return False
    return True


def wrap_new_version(vault: Vault, document_id: str, version: VersionInfo) -> int:
    """Gives every active grant whose scope covers this document the new version's key."""
    doc_type = version.meta.get("type")
    count = 0
    changed: list[str] = []
    revived: list[str] = []
    for grant in grants_given(vault):
        scope = grant["descriptor"]["scope"]
        if not _still_given(vault, grant, revived):
            continue
        if doc_type not in scope["types"] and document_id not in scope["documents"]:
            continue
        grantee = _trusted_grantee(vault, grant)
        if grantee is None:
            changed.append(grant["grantee"]["handle"])
            continue
        wrap = _wrap_for(
            vault,
            grant["id"],
            grantee,
            document_id,
            version.version,
            version.identity,
            _is_team(grant),
            version.manifest_sha256,
        )
        vault.api.api(
            "POST",
            f"/grants/{grant['id']}/wraps",
            json={"wraps": [wrap], "field_wraps": [], "grantee_key_id": grantee["key_id"]},
        )
        count += 1
    vault.refuse_revived(revived)
    _refuse_changed_keys(changed, "The document")
    return count


def rewrap_profile_field(vault: Vault, name: str) -> None:
    changed: list[str] = []
    revived: list[str] = []
    for grant in grants_given(vault):
        if _still_given(vault, grant, revived) and name in grant["descriptor"]["scope"]["fields"]:
            grantee = _trusted_grantee(vault, grant)
            if grantee is None:
                changed.append(grant["grantee"]["handle"])
                continue
            field_wraps = _field_wraps(vault, grant["id"], grantee, [name], _is_team(grant))
            vault.api.api(
                "POST",
                f"/grants/{grant['id']}/wraps",
                json={"wraps": [], "field_wraps": field_wraps, "grantee_key_id": grantee["key_id"]},
            )
    vault.refuse_revived(revived)
    _refuse_changed_keys(changed, "The profile field")


# --- the grantee's side ---------------------------------------------------------------------


def reader_for(
    vault: Vault, grant: dict[str, Any], pins: PinStore | None = None, teams: dict | None = None
) -> Any:
    """None for a grant to this account; for a grant to an organisation, the member's opened
    team key (which must be the one the grant is sealed to now)."""
    if not _is_team(grant):
        return None
    org_id = grant["organisation"]["id"]
    teams = teams if teams is not None else {}
    if org_id not in teams:
        teams[org_id] = team_key(vault, org_id, pins)
    team = teams[org_id]
    if team.key_id != grant["grantee"]["key_id"]:
        raise VaultError("The team key changed a moment ago. Try again.")
    return team


def received(vault: Vault, pins: PinStore) -> list[dict[str, Any]]:
    """Grants to this account, then grants to its organisations (opened with the team key)."""
    result = []
    teams: dict[str, Any] = {}
    for grant in vault.api.api("GET", "/received").json():
        owner = grant["owner"]
        pins.check(owner["handle"], owner)
        team = reader_for(vault, grant, pins, teams)
        descriptor = _open_descriptor(vault, grant, b64d(owner["public_signing_key"]), team)
        result.append({**grant, "descriptor": descriptor})
    return result


@dataclass
class ReceivedDocument:
    document_id: str
    version: int
    size: int
    meta: dict[str, Any]
    identity: Any
    blob_sha256: str


def received_documents(
    vault: Vault, grant_id: str, owner_signing_key: bytes, team: Any = None
) -> list[ReceivedDocument]:
    """The newest version of each document under the grant, checked against the owner's signature.
    `team`: the opened team key, for a grant to an organisation (see reader_for)."""
    private_key, reader_key_id = (
        (team.encryption_key, team.key_id)
        if team
        else (vault.keys.encryption_key, vault.keys.key_id)
    )
    # The owner's signed head: a grant the owner took back stays closed, whatever the server
    # says (the grant statement names the owner; the head must be signed by that key).
    owner = next(
        (
            g["owner"]["handle"]
            for g in vault.api.api("GET", "/received").json()
            if g["id"] == grant_id
        ),
        None,
    )
    if owner is not None:
        check_counterpart(
            vault.api.api("GET", f"/received/{grant_id}/head").json(),
            kind="grants",
            item_id=grant_id,
            owner=owner,
            owner_signing_key=owner_signing_key,
            pins=vault.head_pins,
            server=vault.api.server,
        )
    latest: dict[str, ReceivedDocument] = {}
    for item in vault.api.api("GET", f"/received/{grant_id}/documents").json():
        statement_bytes = b64d(item["statement"])
        wrapped = b64d(item["wrapped_key"])
        try:
            verify(owner_signing_key, statement_bytes, b64d(item["statement_signature"]))
        except BadSignature as exc:
            raise IntegrityFailure("A shared document is not signed by its owner.") from exc
        statement = json.loads(statement_bytes)
        manifest_bytes = b64d(item["manifest"])
        vouched = statement.get("manifest_sha256")
        if vouched is not None:
            # The owner's signed statement names this very manifest (maybe a proxy's).
            if vouched != hashlib.sha256(manifest_bytes).hexdigest():
                raise IntegrityFailure("A shared document was changed on the server.")
        else:
            try:
                verify(owner_signing_key, manifest_bytes, b64d(item["signature"]))
            except BadSignature as exc:
                raise IntegrityFailure("A shared document is not signed by its owner.") from exc
        manifest = json.loads(manifest_bytes)
        encrypted_meta = b64d(item["encrypted_meta"])
        bound = (
            statement.get("kind") == statements.GRANT_WRAP_TEAM.kind
            if team
            else statement.get("wrap_sha256") == hashlib.sha256(wrapped).hexdigest()
        )
        if (
            statement.get("grant_id") != grant_id
            or statement.get("document_id") != item["document_id"]
            or statement.get("version") != item["version"]
            or not bound
            or manifest.get("document_id") != item["document_id"]
            or manifest.get("version") != item["version"]
            or manifest.get("meta_sha256") != hashlib.sha256(encrypted_meta).hexdigest()
        ):
            raise IntegrityFailure("A shared document was changed on the server.")
        info = document_key_info(item["document_id"], item["version"], reader_key_id)
        try:
            identity = age.parse_identity(open_sealed(private_key, wrapped, info).decode())
            # For a team the owner signed the key itself: a key resealed by an admin must be
            # the very one the owner gave.
            if team and statement.get("key_sha256") != key_sha256(identity):
                raise ValueError("not the key the owner signed")
            meta = json.loads(age.decrypt_bytes(encrypted_meta, [identity]))
        except (UnwrapError, age.IntegrityError, ValueError) as exc:
            raise IntegrityFailure("A shared document was changed on the server.") from exc
        current = latest.get(item["document_id"])
        if current is None or current.version < item["version"]:
            latest[item["document_id"]] = ReceivedDocument(
                item["document_id"],
                item["version"],
                int(manifest["blob_size"]),  # the signed size, not the server's
                meta,
                identity,
                manifest["blob_sha256"],
            )
    return list(latest.values())


def received_get(vault: Vault, grant_id: str, document: ReceivedDocument, target: Path) -> None:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    path = f"/received/{grant_id}/documents/{document.document_id}/versions/{document.version}/blob"
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".download-") as ciphertext:
        try:
            digest = download_to(vault.api, path, ciphertext, document.size)
        except WrongSize as exc:
            raise IntegrityFailure(
                "This file is damaged or was changed. Nothing was saved."
            ) from exc
        ciphertext.flush()
        if digest != document.blob_sha256:
            raise IntegrityFailure("This file is damaged or was changed. Nothing was saved.")
        try:
            age.decrypt_file_to_path(Path(ciphertext.name), target, [document.identity])
        except age.IntegrityError as exc:
            raise IntegrityFailure(
                "This file is damaged or was changed. Nothing was saved."
            ) from exc


def received_profile(vault: Vault, grant_id: str, pins: PinStore | None = None) -> dict[str, str]:
    """The profile fields shared under a grant, each checked against the owner's signatures
    and the grant's signed scope."""
    grant = next((g for g in received(vault, pins or PinStore(None)) if g["id"] == grant_id), None)
    if grant is None:
        raise VaultError("This access does not exist or has ended. Ask the person.")
    team = reader_for(vault, grant, pins)
    private_key, reader_key_id = (
        (team.encryption_key, team.key_id)
        if team
        else (vault.keys.encryption_key, vault.keys.key_id)
    )
    owner_key = b64d(grant["owner"]["public_signing_key"])
    allowed = set(grant["descriptor"]["scope"]["fields"])
    fields = {}
    for row in vault.api.api("GET", f"/received/{grant_id}/profile").json():
        info = profile_field_info(row["slot"], reader_key_id)
        wrapped = b64d(row["wrapped_key"])
        ciphertext = b64d(row["ciphertext"])
        try:
            check_profile_field(
                owner_key,
                row["slot"],
                ciphertext,
                row["owner_wrap_sha256"],
                b64d(row["field_signature"]),
            )
            statement_bytes = b64d(row["statement"])
            verify(owner_key, statement_bytes, b64d(row["statement_signature"]))
            statement = json.loads(statement_bytes)
            bound = (
                statement.get("kind") == statements.GRANT_FIELD_TEAM.kind
                if team
                else statement.get("kind") == statements.GRANT_FIELD.kind
                and statement.get("wrap_sha256") == hashlib.sha256(wrapped).hexdigest()
            )
            if (
                not bound
                or statement.get("grant_id") != grant_id
                or statement.get("slot") != row["slot"]
            ):
                raise BadSignature("statement does not match")
            identity = age.parse_identity(open_sealed(private_key, wrapped, info).decode())
            if team and statement.get("key_sha256") != key_sha256(identity):
                raise BadSignature("not the key the owner signed")
            record = json.loads(age.decrypt_bytes(ciphertext, [identity]))
        except (UnwrapError, age.IntegrityError, ValueError, BadSignature) as exc:
            raise IntegrityFailure("A shared profile field was changed on the server.") from exc
        if record.get("name") not in allowed:
            raise IntegrityFailure("The server sent a profile field you were not given.")
        fields[record["name"]] = record["value"]
    return fields
