"""Standing grants: scoped, revocable access for another account.

The server keeps who, until when, and which document keys are sealed to the grantee under the
grant. Purpose and scope are sealed to owner and grantee. Revoking deletes the grant's wraps at
once, so the next request from the grantee finds nothing.
"""

from __future__ import annotations

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from sharing.grants.models import Grant, GrantFieldWrap
from sharing.grants.schemas import FieldWrapIn, GrantCreate, GrantWrapIn
from sharing.organisations import service as orgs
from sharing.organisations.models import Organisation, OrgMember
from wallet import tx
from wallet.accounts.models import Account
from wallet.accounts.service import find_by_handle
from wallet.db import utcnow
from wallet.documents.models import DocumentVersion, KeyWrap
from wallet.documents.service import owned_version_ids
from wallet.errors import Conflict, Invalid, NotFound
from wallet.journal import service as journal
from wallet.profile.models import ProfileField

UNKNOWN_PERSON = "We know nobody with this handle. Check it with the person."


def lookup(db: Session, handle: str) -> Account:
    account = find_by_handle(db, handle)
    if account is None:
        raise NotFound(UNKNOWN_PERSON)
    return account


def state_of(grant: Grant) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    if grant.expires_at is not None and grant.expires_at <= utcnow():
        return "expired"
    return "active"


def _add_wraps(
    db: Session,
    owner: Account,
    grant: Grant,
    wraps: list[GrantWrapIn],
    field_wraps: list[FieldWrapIn],
) -> int:
    versions = owned_version_ids(db, owner, [(w.document_id, w.version) for w in wraps])
    already = set(db.exec(select(KeyWrap.version_id).where(KeyWrap.grant_id == grant.id)))
    added = 0
    for wrap in wraps:
        version_id = versions[(wrap.document_id, wrap.version)]
        if version_id in already:
            continue
        already.add(version_id)
        db.add(
            KeyWrap(
                version_id=version_id,
                recipient_key_id=grant.grantee_key_id,
                grant_id=grant.id,
                wrapped_key=wrap.wrapped_key,
                statement=wrap.statement,
                statement_signature=wrap.statement_signature,
            )
        )
        added += 1
    for field in field_wraps:
        db.exec(
            delete(GrantFieldWrap)
            .where(col(GrantFieldWrap.grant_id) == grant.id)
            .where(col(GrantFieldWrap.slot) == field.slot)
        )
        db.add(
            GrantFieldWrap(
                grant_id=grant.id,
                slot=field.slot,
                wrapped_key=field.wrapped_key,
                statement=field.statement,
                statement_signature=field.statement_signature,
            )
        )
    return added


def _team_grantee(db: Session, owner: Account, data: GrantCreate) -> Organisation:
    org = orgs.find_org(db, data.grantee_org or "")
    if org is None:
        raise NotFound(orgs.UNKNOWN_ORG)
    # Owner, then organisation: a rotation cannot slip in between the key check and the insert.
    tx.lock_owner(db, owner.id)
    orgs.lock_org(db, org.id)
    db.refresh(org)
    if org.team_key_id != data.grantee_key_id:
        raise Conflict(orgs.TEAM_KEY_CHANGED)
    return org


def create_grant(db: Session, owner: Account, data: GrantCreate) -> Grant:
    if data.grantee_org is not None:
        return _create_grant(db, owner, data, None, _team_grantee(db, owner, data))
    grantee = lookup(db, data.grantee_handle or "")
    if grantee.id == owner.id:
        raise Invalid("You cannot give a grant to yourself.")
    if grantee.key_id != data.grantee_key_id:
        raise Conflict("This person's key changed. Check their safety code again, then retry.")
    return _create_grant(db, owner, data, grantee, None)


def _create_grant(
    db: Session,
    owner: Account,
    data: GrantCreate,
    grantee: Account | None,
    org: Organisation | None,
) -> Grant:
    if data.expires_at is not None and data.expires_at.tzinfo is None:
        raise Invalid("The field 'expires_at' needs a time zone, for example 2027-01-31T12:00:00Z.")
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise Invalid("The field 'expires_at' is in the past. Choose a later date.")
    if db.get(Grant, data.grant_id) is not None:
        raise Conflict("This grant id is already used. Create the grant again.")
    grant = Grant(
        id=data.grant_id,
        owner_id=owner.id,
        grantee_id=grantee.id if grantee else None,
        grantee_org_id=org.id if org else None,
        grantee_key_id=grantee.key_id if grantee else data.grantee_key_id,
        sealed_for_owner=data.sealed_for_owner,
        sealed_for_grantee=data.sealed_for_grantee,
        signature=data.signature,
        expires_at=data.expires_at,
    )
    db.add(grant)
    db.flush()
    added = _add_wraps(db, owner, grant, data.wraps, data.field_wraps)
    journal.append(
        db,
        owner.id,
        "grant_created",
        subject_kind="grant",
        subject_id=grant.id,
        details={
            **({"grantee": grantee.id} if grantee else {"organisation": org.id if org else None}),
            "documents": added,
            "fields": len(data.field_wraps),
        },
    )
    return grant


def owned_grant(db: Session, owner: Account, grant_id: str) -> Grant:
    grant = db.get(Grant, grant_id)
    if grant is None or grant.owner_id != owner.id:
        raise NotFound()
    return grant


def add_wraps(
    db: Session,
    owner: Account,
    grant_id: str,
    wraps: list[GrantWrapIn],
    field_wraps: list[FieldWrapIn],
    grantee_key_id: str | None = None,
) -> int:
    # Under the owner's lock: a revoke cannot slip in between the check and the writes.
    tx.lock_owner(db, owner.id)
    grant = owned_grant(db, owner, grant_id)
    if grant.grantee_org_id is not None:
        # ...nor a team key rotation: wraps sealed to the old team key would be lost.
        orgs.lock_org(db, grant.grantee_org_id)
        db.refresh(grant)
        if grantee_key_id != grant.grantee_key_id:
            raise Conflict(orgs.TEAM_KEY_CHANGED)
    db.refresh(grant)
    if grantee_key_id is not None and grantee_key_id != grant.grantee_key_id:
        raise Conflict("This person's key changed. Check their safety code again, then retry.")
    if state_of(grant) != "active":
        raise Conflict("This grant has ended. Create a new one.")
    added = _add_wraps(db, owner, grant, wraps, field_wraps)
    if added or field_wraps:
        journal.append(
            db,
            owner.id,
            "grant_extended",
            subject_kind="grant",
            subject_id=grant.id,
            details={"documents": added, "fields": len(field_wraps)},
        )
    return added


def revoke_grant(db: Session, owner: Account, grant_id: str) -> None:
    tx.lock_owner(db, owner.id)
    grant = owned_grant(db, owner, grant_id)
    grant.revoked_at = grant.revoked_at or utcnow()
    db.add(grant)
    db.exec(delete(KeyWrap).where(col(KeyWrap.grant_id) == grant.id))
    db.exec(delete(GrantFieldWrap).where(col(GrantFieldWrap.grant_id) == grant.id))
    journal.append(db, owner.id, "grant_revoked", subject_kind="grant", subject_id=grant.id)


def _counts(db: Session, grant_ids: list[str]) -> dict[str, int]:
    if not grant_ids:
        return {}
    rows = db.exec(
        select(KeyWrap.grant_id, func.count())
        .where(col(KeyWrap.grant_id).in_(grant_ids))
        .group_by(col(KeyWrap.grant_id))
    ).all()
    return {grant_id: count for grant_id, count in rows if grant_id}


Grantee = Account | Organisation


def grants_given(db: Session, owner: Account) -> list[tuple[Grant, Grantee, int]]:
    grants = db.exec(
        select(Grant, Account, Organisation)
        .outerjoin(Account, col(Account.id) == col(Grant.grantee_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Grant.grantee_org_id))
        .where(Grant.owner_id == owner.id)
        .order_by(col(Grant.created_at))
    ).all()
    counts = _counts(db, [g.id for g, _, _ in grants])
    return [(g, a or o, counts.get(g.id, 0)) for g, a, o in grants if (a or o) is not None]


def grants_via_organisations(
    db: Session, account: Account
) -> list[tuple[Grant, Account, Organisation]]:
    """The active grants this account can read because it is a member of their organisation."""
    rows = db.exec(
        select(Grant, Account, Organisation)
        .join(OrgMember, col(OrgMember.org_id) == col(Grant.grantee_org_id))
        .join(Organisation, col(Organisation.id) == col(Grant.grantee_org_id))
        .join(Account, col(Account.id) == col(Grant.owner_id))
        .where(OrgMember.account_id == account.id)
        .where(col(Grant.revoked_at).is_(None))
        .order_by(col(Grant.created_at))
    ).all()
    return [(g, owner, org) for g, owner, org in rows if state_of(g) == "active"]


def grants_received(
    db: Session, grantee: Account
) -> list[tuple[Grant, Account, int, Organisation | None]]:
    """Grants to this account and, after them, grants to the organisations it is a member of."""
    grants = db.exec(
        select(Grant, Account)
        .join(Account, col(Account.id) == col(Grant.owner_id))
        .where(Grant.grantee_id == grantee.id)
        .where(col(Grant.revoked_at).is_(None))
        .order_by(col(Grant.created_at))
    ).all()
    active: list[tuple[Grant, Account, Organisation | None]] = [
        (g, a, None) for g, a in grants if state_of(g) == "active"
    ]
    active += [(g, owner, org) for g, owner, org in grants_via_organisations(db, grantee)]
    counts = _counts(db, [g.id for g, _, _ in active])
    return [(g, a, counts.get(g.id, 0), org) for g, a, org in active]


def received_grant(db: Session, grantee: Account, grant_id: str) -> Grant:
    """A revoked, expired, foreign or unknown grant: the very same 404. A grant to an
    organisation answers only a current member: membership is checked on every read."""
    grant = db.get(Grant, grant_id)
    if grant is None or state_of(grant) != "active":
        raise NotFound()
    if grant.grantee_id is not None and grant.grantee_id == grantee.id:
        return grant
    if grant.grantee_org_id is not None and orgs.is_member(db, grantee.id, grant.grantee_org_id):
        return grant
    raise NotFound()


def still_readable(db: Session, grantee: Account, grant: Grant) -> None:
    """Checked again under the owner's lock (taken by the journal append) and the organisation's:
    a revoke or a member's removal that returned before this read ends it."""
    if grant.grantee_org_id is not None:
        orgs.lock_org(db, grant.grantee_org_id)
    db.refresh(grant)
    received_grant(db, grantee, grant.id)


def _read_details(through: Grant, **details: object) -> dict[str, object]:
    """What a read adds to the owner's journal: ids only, and the organisation when it went
    through one (the reading member is the entry's actor)."""
    if through.grantee_org_id is not None:
        details["org"] = through.grantee_org_id
    return details


def received_documents(
    db: Session, grantee: Account, grant_id: str
) -> list[tuple[DocumentVersion, KeyWrap]]:
    grant = received_grant(db, grantee, grant_id)
    rows = db.exec(
        select(DocumentVersion, KeyWrap)
        .join(KeyWrap, col(KeyWrap.version_id) == col(DocumentVersion.id))
        .where(KeyWrap.grant_id == grant.id)
        .order_by(col(DocumentVersion.document_id), col(DocumentVersion.version))
    ).all()
    # Listing shows titles, types and dates to the grantee: the owner sees that it happened.
    journal.append(
        db,
        grant.owner_id,
        "grant_listed",
        actor_kind="account",
        actor_id=grantee.id,
        subject_kind="grant",
        subject_id=grant.id,
        details=_read_details(grant, documents=len(rows)),
    )
    still_readable(db, grantee, grant)
    return list(rows)


def received_version(
    db: Session, grantee: Account, grant_id: str, document_id: str, version: int
) -> DocumentVersion:
    grant = received_grant(db, grantee, grant_id)
    row = db.exec(
        select(DocumentVersion)
        .join(KeyWrap, col(KeyWrap.version_id) == col(DocumentVersion.id))
        .where(KeyWrap.grant_id == grant.id)
        .where(DocumentVersion.document_id == document_id)
        .where(DocumentVersion.version == version)
    ).first()
    if row is None:
        raise NotFound()
    journal.append(
        db,
        grant.owner_id,
        "grant_download",
        actor_kind="account",
        actor_id=grantee.id,
        subject_kind="document",
        subject_id=document_id,
        details=_read_details(grant, version=version, grant=grant.id),
    )
    still_readable(db, grantee, grant)
    return row


def received_fields(
    db: Session, grantee: Account, grant_id: str
) -> list[tuple[ProfileField, GrantFieldWrap]]:
    grant = received_grant(db, grantee, grant_id)
    rows = db.exec(
        select(ProfileField, GrantFieldWrap)
        .join(
            GrantFieldWrap,
            (col(GrantFieldWrap.slot) == col(ProfileField.slot))
            & (col(ProfileField.account_id) == grant.owner_id),
        )
        .where(GrantFieldWrap.grant_id == grant.id)
    ).all()
    if rows:
        journal.append(
            db,
            grant.owner_id,
            "grant_profile_read",
            actor_kind="account",
            actor_id=grantee.id,
            subject_kind="grant",
            subject_id=grant.id,
            details=_read_details(grant, fields=len(rows)),
        )
        still_readable(db, grantee, grant)
    return list(rows)
