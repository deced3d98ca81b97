"""Organisations and their team key.

The server keeps the organisation's name, its members and roles, the chain of team public keys,
and per member the team's private keys sealed (HPKE) to that member by an admin. It never sees a
team private key. Rotation (on every removal) swaps the team key and everything sealed to it in
one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

from sqlalchemy import bindparam, delete, func, update
from sqlmodel import Session, col, select

from sharing.grants.models import Grant, GrantFieldWrap
from sharing.organisations.models import Organisation, OrgEvent, OrgMember, OrgTeamKey
from sharing.organisations.schemas import (
    MemberAdd,
    OrgCreate,
    RoleChange,
    Rotation,
    SealedCopyIn,
    TeamKeyIn,
)
from wallet import tx
from wallet.accounts.models import Account
from wallet.accounts.schemas import PublicKeys
from wallet.accounts.service import find_by_handle
from wallet.crypto.encoding import canonical_json
from wallet.crypto.signing import BadSignature, verify
from wallet.crypto.wrap import key_id
from wallet.documents.models import DocumentVersion, KeyWrap
from wallet.errors import Conflict, Forbidden, Invalid, NotFound
from wallet.journal import service as journal
from wallet.protocol import statements

# A non-member gets exactly what an unknown name gets: nobody learns who works where.
NOT_YOURS = "You are in no organisation by this name. Check the name with 'wallet org ls'."
UNKNOWN_ORG = "We know no organisation by this name. Check the name with the office."
ADMINS_ONLY = "Only an admin of this organisation can do this. Ask one of its admins."
TEAM_KEY_CHANGED = (
    "The team key of this organisation changed while you worked. Check the safety code "
    "again, then retry."
)
ROTATION_STALE = (
    "Something changed in this organisation while you worked (a member, a grant or a document "
    "shared with it). Nothing was changed. Run the command again."
)
ROLES = ("admin", "worker")
LAST_ADMIN = (
    "{handle} is the last admin of {org}. An organisation always keeps an admin. Make another "
    "member admin first ('wallet org member role {org} HANDLE admin'), then try again."
)
LAST_ADMIN_DELETING = (
    "You are the last admin of {orgs}. Nothing was deleted. Make another member admin first "
    "('wallet org member role ORG HANDLE admin'), then delete your account."
)


class LastAdmin(Conflict):
    """An organisation would be left with members but no admin: nobody could add, remove or
    change the team key any more."""

    code = "last_admin"


# --- names and lookups ---------------------------------------------------------------------


def handle_from_name(display_name: str) -> str:
    """'CPAS Example' -> 'cpas-example': plain ASCII letters, digits and dashes."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:36].strip("-")
    return slug if len(slug) >= 3 else f"org-{slug}".strip("-")


def _free_handle(db: Session, base: str) -> str:
    taken = set(
        db.exec(select(Organisation.handle).where(col(Organisation.handle).like(f"{base}%"))).all()
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def find_org(db: Session, ref: str) -> Organisation | None:
    ref = ref.strip().lower()
    org = db.exec(select(Organisation).where(Organisation.handle == ref)).first()
    if org is None and re.fullmatch(r"[0-9a-f]{32}", ref):
        org = db.get(Organisation, ref)
    return org


def public_org(db: Session, ref: str) -> tuple[Organisation, list[OrgTeamKey], list[str]]:
    """Name, team keys and admins' handles: what anyone may check before trusting an office.
    Workers stay unnamed: nobody learns from it who works where, only who answers for it."""
    org = find_org(db, ref)
    if org is None:
        raise NotFound(UNKNOWN_ORG)
    keys = db.exec(
        select(OrgTeamKey).where(OrgTeamKey.org_id == org.id).order_by(col(OrgTeamKey.epoch))
    ).all()
    return org, list(keys), admin_handles(db, org.id)


def current_team_key(db: Session, org: Organisation) -> OrgTeamKey:
    return db.exec(
        select(OrgTeamKey).where(OrgTeamKey.org_id == org.id).where(OrgTeamKey.epoch == org.epoch)
    ).one()


def membership(db: Session, account_id: str, org_id: str) -> OrgMember | None:
    return db.exec(
        select(OrgMember)
        .where(OrgMember.org_id == org_id)
        .where(OrgMember.account_id == account_id)
    ).first()


def is_member(db: Session, account_id: str, org_id: str) -> bool:
    return membership(db, account_id, org_id) is not None


def member_org(db: Session, account: Account, ref: str) -> tuple[Organisation, OrgMember]:
    org = find_org(db, ref)
    member = membership(db, account.id, org.id) if org else None
    if org is None or member is None:
        raise NotFound(NOT_YOURS)
    return org, member


def admin_org(db: Session, account: Account, ref: str) -> tuple[Organisation, OrgMember]:
    org, member = member_org(db, account, ref)
    if member.role != "admin":
        raise Forbidden(ADMINS_ONLY)
    return org, member


def lock_org(db: Session, org_id: str) -> None:
    """Serialises key changes with grants and wraps sealed to the team key (like
    wallet.tx.lock_owner, and taken after it)."""
    db.execute(
        update(Organisation).where(col(Organisation.id) == org_id).values(epoch=Organisation.epoch)
    )


def admin_count(db: Session, org_id: str) -> int:
    return db.exec(
        select(func.count())
        .select_from(OrgMember)
        .where(OrgMember.org_id == org_id)
        .where(OrgMember.role == "admin")
    ).one()


def admin_handles(db: Session, org_id: str) -> list[str]:
    return list(
        db.exec(
            select(Account.handle)
            .join(OrgMember, col(OrgMember.account_id) == col(Account.id))
            .where(OrgMember.org_id == org_id)
            .where(OrgMember.role == "admin")
            .order_by(col(Account.handle))
        ).all()
    )


def _event(
    db: Session,
    org_id: str,
    event: str,
    actor_id: str | None,
    subject_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    db.add(
        OrgEvent(
            org_id=org_id,
            event=event,
            actor_id=actor_id,
            subject_id=subject_id,
            details=canonical_json(details or {}).decode(),
        )
    )


# --- statements the server checks (it cannot read them, only check they fit) -------------


def _signed_json(message: bytes, signature: bytes, signer_key: bytes, what: str) -> dict[str, Any]:
    try:
        verify(signer_key, message, signature)
        value = json.loads(message)
    except (BadSignature, ValueError) as exc:
        raise Invalid(f"The {what} is not signed correctly. Nothing was changed.") from exc
    if not isinstance(value, dict):
        raise Invalid(f"The {what} is not valid. Nothing was changed.")
    return value


def _check_team_key(
    org_id: str, epoch: int, key: TeamKeyIn, previous: OrgTeamKey | None, admin: Account
) -> None:
    if key.key_id != key_id(key.public_encryption_key):
        raise Invalid("The team key id does not match the team key. Nothing was changed.")
    signer = previous.public_signing_key if previous else key.public_signing_key
    statement = _signed_json(key.statement, key.signature, signer, "team key")
    expected = statements.TEAM_KEY.build(
        org_id=org_id,
        epoch=epoch,
        key_id=key.key_id,
        public_encryption_key_sha256=hashlib.sha256(key.public_encryption_key).hexdigest(),
        public_signing_key_sha256=hashlib.sha256(key.public_signing_key).hexdigest(),
        previous_key_id=previous.key_id if previous else None,
        admin=admin.handle,
    )
    if statement != expected:
        raise Invalid("The team key statement does not fit this change. Nothing was changed.")


def _check_copy(
    copy: SealedCopyIn, org_id: str, team_key_id: str, member: Account, admin: Account
) -> None:
    if copy.member_key_id != member.key_id:
        raise Conflict(
            f"The key of {member.handle} changed. Check their safety code again, then retry."
        )
    statement = _signed_json(
        copy.statement, copy.signature, admin.public_signing_key, "sealed team key"
    )
    expected = statements.TEAM_KEY_SEAL.build(
        org_id=org_id,
        team_key_id=team_key_id,
        member=member.handle,
        member_key_id=member.key_id,
        sealed_sha256=hashlib.sha256(copy.sealed_team_key).hexdigest(),
        admin=admin.handle,
    )
    if statement != expected:
        raise Invalid(f"The sealed team key for {member.handle} does not fit. Nothing was changed.")


def _member_row(
    org_id: str, account: Account, role: str, team_key_id: str, copy: SealedCopyIn, admin: Account
) -> OrgMember:
    return OrgMember(
        org_id=org_id,
        account_id=account.id,
        role=role,
        member_key_id=account.key_id,
        team_key_id=team_key_id,
        sealed_team_key=copy.sealed_team_key,
        sealed_by=admin.id,
        sealer_handle=admin.handle,
        sealer_key_id=admin.key_id,
        sealer_public_encryption_key=admin.public_encryption_key,
        sealer_public_signing_key=admin.public_signing_key,
        seal_statement=copy.statement,
        seal_signature=copy.signature,
    )


# --- create, list, add ---------------------------------------------------------------------


def create_org(db: Session, creator: Account, data: OrgCreate) -> Organisation:
    display_name = " ".join(data.display_name.split())
    if len(display_name) < 2:
        raise Invalid("Give the organisation a name of at least 2 letters.")
    if db.get(Organisation, data.org_id) is not None:
        raise Conflict("This organisation id is already used. Create it again.")
    if data.creator_copy.handle != creator.handle:
        raise Invalid("The first admin is the account that creates the organisation.")
    _check_team_key(data.org_id, 1, data.team_key, None, creator)
    _check_copy(data.creator_copy, data.org_id, data.team_key.key_id, creator, creator)
    org = Organisation(
        id=data.org_id,
        handle=_free_handle(db, handle_from_name(display_name)),
        display_name=display_name,
        team_key_id=data.team_key.key_id,
        epoch=1,
    )
    db.add(org)
    db.flush()
    db.add(_team_key_row(org.id, 1, data.team_key))
    db.add(_member_row(org.id, creator, "admin", data.team_key.key_id, data.creator_copy, creator))
    _event(db, org.id, "org_created", creator.id, creator.id)
    return org


def _team_key_row(org_id: str, epoch: int, key: TeamKeyIn) -> OrgTeamKey:
    return OrgTeamKey(
        org_id=org_id,
        epoch=epoch,
        key_id=key.key_id,
        public_encryption_key=key.public_encryption_key,
        public_signing_key=key.public_signing_key,
        statement=key.statement,
        signature=key.signature,
    )


def my_orgs(db: Session, account: Account) -> list[tuple[Organisation, str, int]]:
    rows = db.exec(
        select(Organisation, OrgMember.role)
        .join(OrgMember, col(OrgMember.org_id) == col(Organisation.id))
        .where(OrgMember.account_id == account.id)
        .order_by(col(Organisation.handle))
    ).all()
    ids = [org.id for org, _ in rows]
    counts = dict(
        db.exec(
            select(OrgMember.org_id, func.count())
            .where(col(OrgMember.org_id).in_(ids))
            .group_by(col(OrgMember.org_id))
        ).all()
    )
    return [(org, role, counts.get(org.id, 0)) for org, role in rows]


def org_detail(
    db: Session, account: Account, ref: str
) -> tuple[Organisation, OrgMember, OrgTeamKey, list[tuple[OrgMember, Account]], PublicKeys]:
    org, me = member_org(db, account, ref)
    members = db.exec(
        select(OrgMember, Account)
        .join(Account, col(Account.id) == col(OrgMember.account_id))
        .where(OrgMember.org_id == org.id)
        .order_by(col(OrgMember.added_at))
    ).all()
    return org, me, current_team_key(db, org), list(members), sealer_keys(db, me)


def sealer_keys(db: Session, member: OrgMember) -> PublicKeys:
    """The public keys that signed this member's copy: kept with the copy, so the copy still
    opens after the sealing admin deleted their account."""
    if (
        member.sealer_handle
        and member.sealer_key_id
        and member.sealer_public_encryption_key
        and member.sealer_public_signing_key
    ):
        return PublicKeys(
            handle=member.sealer_handle,
            key_id=member.sealer_key_id,
            public_encryption_key=member.sealer_public_encryption_key,
            public_signing_key=member.sealer_public_signing_key,
        )
    sealer = db.get(Account, member.sealed_by)
    if sealer is None:
        # Sealed before the keys were kept (0014) by an admin who then left: nothing to check.
        raise Conflict(
            "Your copy of the team key was sealed by an account that no longer exists. "
            "Ask an admin to add you again."
        )
    return PublicKeys.of(sealer)


def add_member(db: Session, admin: Account, ref: str, data: MemberAdd) -> OrgMember:
    org, _ = admin_org(db, admin, ref)
    lock_org(db, org.id)
    db.refresh(org)
    admin_org(db, admin, ref)  # again under the lock: an admin removed meanwhile adds nobody
    newcomer = find_by_handle(db, data.copy_for_member.handle)
    if newcomer is None:
        raise NotFound("We know nobody with this handle. Check it with the person.")
    if membership(db, newcomer.id, org.id) is not None:
        raise Conflict(f"{newcomer.handle} is already a member of {org.handle}.")
    _check_copy(data.copy_for_member, org.id, org.team_key_id, newcomer, admin)
    row = _member_row(org.id, newcomer, data.role, org.team_key_id, data.copy_for_member, admin)
    db.add(row)
    _event(db, org.id, "member_added", admin.id, newcomer.id, {"role": data.role})
    return row


def change_role(
    db: Session, admin: Account, ref: str, handle: str, data: RoleChange
) -> tuple[Organisation, OrgMember]:
    """Makes a member an admin or a worker. No key changes: both roles hold the team key.
    An organisation always keeps one admin."""
    org, _ = admin_org(db, admin, ref)
    lock_org(db, org.id)
    db.refresh(org)
    admin_org(db, admin, ref)  # again under the lock: an admin removed meanwhile changes nothing
    account = find_by_handle(db, handle.strip().lower())
    member = membership(db, account.id, org.id) if account is not None else None
    if account is None or member is None:
        raise NotFound(f"{handle} is not a member of {org.handle}.")
    if member.role == data.role:
        return org, member
    if member.role == "admin" and admin_count(db, org.id) <= 1:
        # Counted under the organisation's lock: two admins demoting each other at once
        # cannot both pass.
        raise LastAdmin(LAST_ADMIN.format(handle=account.handle, org=org.handle))
    member.role = data.role
    db.add(member)
    _event(db, org.id, "role_changed", admin.id, account.id, {"role": data.role})
    return org, member


def events(
    db: Session, account: Account, ref: str
) -> list[tuple[OrgEvent, str | None, str | None]]:
    org, _ = member_org(db, account, ref)
    rows = db.exec(
        select(OrgEvent).where(OrgEvent.org_id == org.id).order_by(col(OrgEvent.at))
    ).all()
    ids = {i for e in rows for i in (e.actor_id, e.subject_id) if i}
    handles = dict(
        db.exec(select(Account.id, Account.handle).where(col(Account.id).in_(ids))).all()
    )
    return [(e, handles.get(e.actor_id or ""), handles.get(e.subject_id or "")) for e in rows]


# --- what the team key protects ------------------------------------------------------------


def _live_grants(db: Session, org_id: str) -> list[Grant]:
    return list(
        db.exec(
            select(Grant)
            .where(Grant.grantee_org_id == org_id)
            .where(col(Grant.revoked_at).is_(None))
        ).all()
    )


def team_wraps(
    db: Session, admin: Account, ref: str
) -> tuple[Organisation, list[Grant], list[tuple[KeyWrap, DocumentVersion]], list[GrantFieldWrap]]:
    org, _ = admin_org(db, admin, ref)
    grants = _live_grants(db, org.id)
    grant_ids = [g.id for g in grants]
    wraps = db.exec(
        select(KeyWrap, DocumentVersion)
        .join(DocumentVersion, col(DocumentVersion.id) == col(KeyWrap.version_id))
        .where(col(KeyWrap.grant_id).in_(grant_ids))
    ).all()
    fields = db.exec(
        select(GrantFieldWrap).where(col(GrantFieldWrap.grant_id).in_(grant_ids))
    ).all()
    return org, grants, list(wraps), list(fields)


def rotate(db: Session, admin: Account, ref: str, data: Rotation) -> tuple[Organisation, int]:
    """Swaps in a new team key and every key resealed to it, or changes nothing at all."""
    org, _ = admin_org(db, admin, ref)
    # Lock order owner -> organisation, as grant creation and new wraps do.
    owners = sorted(
        set(db.exec(select(Grant.owner_id).where(Grant.grantee_org_id == org.id)).all())
    )
    for owner_id in owners:
        tx.lock_owner(db, owner_id)
    lock_org(db, org.id)
    db.refresh(org)
    still_admin = membership(db, admin.id, org.id)
    if still_admin is None or still_admin.role != "admin":
        raise Forbidden(ADMINS_ONLY)
    if data.previous_team_key_id != org.team_key_id:
        raise Conflict(TEAM_KEY_CHANGED)
    members = list(
        db.exec(
            select(OrgMember, Account)
            .join(Account, col(Account.id) == col(OrgMember.account_id))
            .where(OrgMember.org_id == org.id)
        ).all()
    )
    removed: tuple[OrgMember, Account] | None = None
    if data.remove is not None:
        removed = next(((m, a) for m, a in members if a.handle == data.remove), None)
        if removed is None:
            raise NotFound(f"{data.remove} is not a member of {org.handle}.")
        admins = [m for m, _ in members if m.role == "admin"]
        if removed[0].role == "admin" and len(admins) == 1:
            raise LastAdmin(LAST_ADMIN.format(handle=removed[1].handle, org=org.handle))
    staying = {a.handle: (m, a) for m, a in members if removed is None or m.id != removed[0].id}

    previous = current_team_key(db, org)
    new_epoch = org.epoch + 1
    _check_team_key(org.id, new_epoch, data.team_key, previous, admin)
    if data.team_key.key_id == previous.key_id:
        raise Invalid("A rotation needs a new team key. Nothing was changed.")

    copies = {c.handle: c for c in data.copies}
    if set(copies) != set(staying) or len(copies) != len(data.copies):
        raise Conflict(ROTATION_STALE)
    for handle, (_member, account) in staying.items():
        _check_copy(copies[handle], org.id, data.team_key.key_id, account, admin)

    grants = _live_grants(db, org.id)
    grant_ids = [g.id for g in grants]
    wrap_ids = set(db.exec(select(KeyWrap.id).where(col(KeyWrap.grant_id).in_(grant_ids))).all())
    field_ids = set(
        db.exec(select(GrantFieldWrap.id).where(col(GrantFieldWrap.grant_id).in_(grant_ids))).all()
    )
    sent_grants = {g.grant_id: g for g in data.grants}
    sent_wraps = {w.id: w for w in data.document_wraps}
    sent_fields = {w.id: w for w in data.field_wraps}
    if (
        set(sent_grants) != set(grant_ids)
        or len(sent_grants) != len(data.grants)
        or set(sent_wraps) != wrap_ids
        or len(sent_wraps) != len(data.document_wraps)
        or set(sent_fields) != field_ids
        or len(sent_fields) != len(data.field_wraps)
    ):
        raise Conflict(ROTATION_STALE)

    new_key_id = data.team_key.key_id
    # Executemany updates: thousands of rows in a few round trips.
    if data.document_wraps:
        db.connection().execute(
            update(KeyWrap.__table__)  # type: ignore[attr-defined]
            .where(KeyWrap.__table__.c.id == bindparam("wrap_id"))  # type: ignore[attr-defined]
            .values(wrapped_key=bindparam("new_wrap"), recipient_key_id=new_key_id),
            [{"wrap_id": w.id, "new_wrap": w.wrapped_key} for w in data.document_wraps],
        )
    if data.field_wraps:
        db.connection().execute(
            update(GrantFieldWrap.__table__)  # type: ignore[attr-defined]
            .where(GrantFieldWrap.__table__.c.id == bindparam("wrap_id"))  # type: ignore[attr-defined]
            .values(wrapped_key=bindparam("new_wrap")),
            [{"wrap_id": w.id, "new_wrap": w.wrapped_key} for w in data.field_wraps],
        )
    if data.grants:
        db.connection().execute(
            update(Grant.__table__)  # type: ignore[attr-defined]
            .where(Grant.__table__.c.id == bindparam("gid"))  # type: ignore[attr-defined]
            .values(sealed_for_grantee=bindparam("sealed"), grantee_key_id=new_key_id),
            [{"gid": g.grant_id, "sealed": g.sealed_for_grantee} for g in data.grants],
        )
    # Ended grants keep nothing sealed to the old key that a removed member could open later.
    db.exec(
        update(Grant)
        .where(col(Grant.grantee_org_id) == org.id)
        .where(col(Grant.revoked_at).is_not(None))
        .values(sealed_for_grantee=b"")
    )
    for handle, (member, account) in staying.items():
        copy = copies[handle]
        member.team_key_id = new_key_id
        member.member_key_id = account.key_id
        member.sealed_team_key = copy.sealed_team_key
        member.sealed_by = admin.id
        member.sealer_handle = admin.handle
        member.sealer_key_id = admin.key_id
        member.sealer_public_encryption_key = admin.public_encryption_key
        member.sealer_public_signing_key = admin.public_signing_key
        member.seal_statement = copy.statement
        member.seal_signature = copy.signature
        db.add(member)
    if removed is not None:
        db.exec(delete(OrgMember).where(col(OrgMember.id) == removed[0].id))
    db.add(_team_key_row(org.id, new_epoch, data.team_key))
    org.epoch = new_epoch
    org.team_key_id = new_key_id
    db.add(org)

    per_owner: dict[str, list[str]] = {}
    for grant in grants:
        per_owner.setdefault(grant.owner_id, []).append(grant.id)
    counts = dict(
        db.exec(
            select(KeyWrap.grant_id, func.count())
            .where(col(KeyWrap.grant_id).in_(grant_ids))
            .group_by(col(KeyWrap.grant_id))
        ).all()
    )
    for owner_id, ids in per_owner.items():
        journal.append(
            db,
            owner_id,
            "org_key_rotated",
            actor_kind="account",
            actor_id=admin.id,
            subject_kind="organisation",
            subject_id=org.id,
            details={"grants": len(ids), "documents": sum(counts.get(i, 0) for i in ids)},
        )
    if removed is not None:
        _event(db, org.id, "member_removed", admin.id, removed[1].id)
    _event(
        db,
        org.id,
        "team_key_rotated",
        admin.id,
        details={"epoch": new_epoch, "grants": len(grants), "documents": len(wrap_ids)},
    )
    return org, len(data.document_wraps) + len(data.field_wraps) + len(data.grants)


# --- before an account is deleted (registered at app composition, wallet/server/hooks.py) --


def check_account_deletion(db: Session, account: Account) -> None:
    """Refuses to delete the last admin of an organisation that has other members. Runs in the
    deletion's transaction, under the owner's lock then each organisation's (the order of
    wallet.tx), so two admins deleting their accounts at once cannot both pass."""
    tx.lock_owner(db, account.id)
    org_ids = sorted(
        db.exec(
            select(OrgMember.org_id)
            .where(OrgMember.account_id == account.id)
            .where(OrgMember.role == "admin")
        ).all()
    )
    blocked: list[str] = []
    for org_id in org_ids:
        lock_org(db, org_id)
        members = db.exec(
            select(func.count()).select_from(OrgMember).where(OrgMember.org_id == org_id)
        ).one()
        # Alone in it, nobody is left without an admin: the organisation just has no members.
        if members > 1 and admin_count(db, org_id) <= 1:
            org = db.get(Organisation, org_id)
            blocked.append(org.handle if org else org_id)
    if blocked:
        raise LastAdmin(LAST_ADMIN_DELETING.format(orgs=", ".join(blocked)))
