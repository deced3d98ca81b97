from datetime import datetime

from sqlalchemy import CheckConstraint, Column, LargeBinary
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class Grant(SQLModel, table=True):
    """A standing, scoped, revocable grant from an owner to another account.

    Its descriptor (purpose and scope) is signed by the owner and sealed to both parties:
    the server only knows who, until when, and which document versions carry a wrap for it.
    The grantee is one account, or one organisation's team (its current team key).
    """

    __table_args__ = (
        CheckConstraint("(grantee_id IS NULL) <> (grantee_org_id IS NULL)", name="one_grantee"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    owner_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    grantee_id: str | None = Field(
        default=None, foreign_key="account.id", index=True, ondelete="CASCADE"
    )
    grantee_org_id: str | None = Field(
        default=None, foreign_key="organisation.id", index=True, ondelete="CASCADE", max_length=32
    )
    # The grantee's key id, or the team key id (updated when the team key rotates).
    grantee_key_id: str = Field(max_length=32)
    sealed_for_owner: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_for_grantee: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class GrantFieldWrap(SQLModel, table=True):
    """A profile field's key sealed to the grantee."""

    __tablename__ = "grant_field_wrap"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    grant_id: str = Field(foreign_key="grant.id", index=True, ondelete="CASCADE")
    slot: str = Field(max_length=32)
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The owner's signed {grant_id, slot, wrap hash}: binds this wrap to the grant.
    statement: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    statement_signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
