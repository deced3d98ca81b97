from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class JournalEntry(SQLModel, table=True):
    """One event on an owner's data. Ids only, never titles or content. Hash-chained per owner."""

    __tablename__ = "journal_entry"
    __table_args__ = (UniqueConstraint("owner_id", "seq"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    owner_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    seq: int
    at: datetime = Field(default_factory=utcnow)
    event: str = Field(max_length=40)
    # Who acted: "owner", "account" (a grantee or worker), "link" (someone holding a link).
    actor_kind: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=40)
    subject_kind: str | None = Field(default=None, max_length=16)
    subject_id: str | None = Field(default=None, max_length=40)
    details: str = Field(default="{}", max_length=2000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
