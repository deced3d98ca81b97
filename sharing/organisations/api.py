from __future__ import annotations

from fastapi import APIRouter, status

from sharing.organisations import service
from sharing.organisations.models import OrgTeamKey
from sharing.organisations.schemas import (
    Created,
    FieldWrapOut,
    GrantSealed,
    MemberAdd,
    MemberOut,
    MyCopy,
    OrgCreate,
    OrgEventOut,
    OrgOut,
    OrgPublic,
    OrgSummary,
    RoleChange,
    Rotated,
    Rotation,
    TeamKeyOut,
    TeamWraps,
    WrapOut,
)
from wallet.accounts.schemas import PublicKeys
from wallet.crypto.safety_code import safety_code
from wallet.deps import DB, FullCaller
from wallet.types import Ref

router = APIRouter(tags=["organisations"])


def _team_key(key: OrgTeamKey) -> TeamKeyOut:
    return TeamKeyOut(
        epoch=key.epoch,
        key_id=key.key_id,
        public_encryption_key=key.public_encryption_key,
        public_signing_key=key.public_signing_key,
        statement=key.statement,
        signature=key.signature,
    )


@router.post("/orgs", status_code=status.HTTP_201_CREATED, response_model=Created)
def create_org(data: OrgCreate, caller: FullCaller, db: DB) -> Created:
    """Create an organisation. You are its first admin."""
    org = service.create_org(db, caller.account, data)
    return Created(id=org.id, handle=org.handle)


@router.get("/orgs", response_model=list[OrgSummary])
def my_orgs(caller: FullCaller, db: DB) -> list[OrgSummary]:
    """The organisations you are a member of."""
    return [
        OrgSummary(
            id=org.id, handle=org.handle, display_name=org.display_name, role=role, members=count
        )
        for org, role, count in service.my_orgs(db, caller.account)
    ]


@router.get("/orgs/{org}/public", response_model=OrgPublic)
def public_org(org: Ref, caller: FullCaller, db: DB) -> OrgPublic:
    """An organisation's name, team public keys, safety code and admins' handles: what anyone
    with an account may check before giving it access (names are public)."""
    found, keys, admins = service.public_org(db, org)
    current = keys[-1]
    return OrgPublic(
        id=found.id,
        handle=found.handle,
        display_name=found.display_name,
        epoch=found.epoch,
        team_keys=[_team_key(k) for k in keys],
        safety_code=safety_code(current.public_encryption_key, current.public_signing_key),
        admins=admins,
    )


@router.get("/orgs/{org}", response_model=OrgOut)
def org_detail(org: Ref, caller: FullCaller, db: DB) -> OrgOut:
    """Members, roles and your sealed copy of the team key. Members only."""
    found, me, key, members, sealer = service.org_detail(db, caller.account, org)
    return OrgOut(
        id=found.id,
        handle=found.handle,
        display_name=found.display_name,
        role=me.role,
        epoch=found.epoch,
        team_key=_team_key(key),
        members=[
            MemberOut(keys=PublicKeys.of(a), role=m.role, added_at=m.added_at) for m, a in members
        ],
        my_copy=MyCopy(
            team_key_id=me.team_key_id,
            sealed_team_key=me.sealed_team_key,
            statement=me.seal_statement,
            signature=me.seal_signature,
            sealed_by=sealer,
        ),
    )


@router.post("/orgs/{org}/members", status_code=status.HTTP_201_CREATED)
def add_member(org: Ref, data: MemberAdd, caller: FullCaller, db: DB) -> dict[str, str]:
    """Add a member with the team key sealed to them. Admins only."""
    service.add_member(db, caller.account, org, data)
    return {"handle": data.copy_for_member.handle, "role": data.role}


@router.post("/orgs/{org}/members/{handle}/role")
def change_role(
    org: Ref, handle: Ref, data: RoleChange, caller: FullCaller, db: DB
) -> dict[str, str]:
    """Make a member an admin or a worker. Admins only; the last admin stays admin."""
    _found, member = service.change_role(db, caller.account, org, handle, data)
    return {"handle": handle.strip().lower(), "role": member.role}


@router.get("/orgs/{org}/wraps", response_model=TeamWraps)
def team_wraps(org: Ref, caller: FullCaller, db: DB) -> TeamWraps:
    """Everything sealed to the current team key, to reseal it to a new one. Admins only."""
    found, grants, wraps, fields = service.team_wraps(db, caller.account, org)
    return TeamWraps(
        team_key_id=found.team_key_id,
        grants=[
            GrantSealed(grant_id=g.id, sealed_for_grantee=g.sealed_for_grantee) for g in grants
        ],
        document_wraps=[
            WrapOut(
                id=w.id,
                grant_id=w.grant_id or "",
                document_id=v.document_id,
                version=v.version,
                wrapped_key=w.wrapped_key,
            )
            for w, v in wraps
        ],
        field_wraps=[
            FieldWrapOut(id=f.id, grant_id=f.grant_id, slot=f.slot, wrapped_key=f.wrapped_key)
            for f in fields
        ],
    )


@router.post("/orgs/{org}/rotate", response_model=Rotated)
def rotate(org: Ref, data: Rotation, caller: FullCaller, db: DB) -> Rotated:
    """Swap the team key (and remove a member) in one step. Admins only."""
    found, rewrapped = service.rotate(db, caller.account, org, data)
    return Rotated(epoch=found.epoch, team_key_id=found.team_key_id, rewrapped=rewrapped)


@router.get("/orgs/{org}/events", response_model=list[OrgEventOut])
def org_events(org: Ref, caller: FullCaller, db: DB) -> list[OrgEventOut]:
    """Who joined, left or changed the team key. Members only."""
    return [
        OrgEventOut(at=e.at, event=e.event, actor=actor, subject=subject, details=e.details)
        for e, actor, subject in service.events(db, caller.account, org)
    ]
