from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class Organisation(SQLModel, table=True):
    """A CPAS, social office, shelter or NGO. Its name is public; its team key is not.

    The server keeps the team's public keys (current one cached here, every one in
    `org_team_key`) and, per member, the team's private keys sealed to that member.
    """

    id: str = Field(primary_key=True, max_length=32)
    handle: str = Field(unique=True, index=True, max_length=40)
    display_name: str = Field(max_length=120)
    team_key_id: str = Field(max_length=32)
    epoch: int = 1
    created_at: datetime = Field(default_factory=utcnow)


class OrgTeamKey(SQLModel, table=True):
    """One generation of the team key (public halves only), with the statement that links it
    to the one before: signed by the previous team signing key (the first one by itself).
    Owners walk this chain from the key they pinned to the current one."""

    __tablename__ = "org_team_key"
    __table_args__ = (UniqueConstraint("org_id", "epoch"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    org_id: str = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    epoch: int
    key_id: str = Field(max_length=32)
    public_encryption_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    public_signing_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    statement: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class OrgMember(SQLModel, table=True):
    """A member and their sealed copy of the current team key, signed by the admin who sealed it.

    Rotation overwrites every copy: old copies do not stay on the server."""

    __tablename__ = "org_member"
    __table_args__ = (UniqueConstraint("org_id", "account_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    org_id: str = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    account_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=16)  # admin | worker
    member_key_id: str = Field(max_length=32)
    team_key_id: str = Field(max_length=32)
    sealed_team_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_by: str = Field(max_length=32)  # the admin's account id
    # The sealing admin's public keys as they signed: the member can still check the seal
    # after that admin deleted their account (empty only on rows sealed before 0014).
    sealer_handle: str | None = Field(default=None, max_length=40)
    sealer_key_id: str | None = Field(default=None, max_length=32)
    sealer_public_encryption_key: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    sealer_public_signing_key: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    seal_statement: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    seal_signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    added_at: datetime = Field(default_factory=utcnow)


class OrgEvent(SQLModel, table=True):
    """The organisation's own audit: who joined, left or rotated the key. Ids only.

    An organisation has no owner journal; reads of an owner's data go to the owner's journal."""

    __tablename__ = "org_event"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    org_id: str = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow)
    event: str = Field(max_length=40)
    actor_id: str | None = Field(default=None, max_length=32)
    subject_id: str | None = Field(default=None, max_length=32)
    details: str = Field(default="{}", max_length=400)
