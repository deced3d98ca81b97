from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class ContactNote(SQLModel, table=True):
    """A trace of a contact (date, persons, what was said, actions decided).

    Written by the owner, or by a worker under an active grant from the owner. Signed by the
    author and sealed to the owner and to the author: the server keeps ids and times only.
    """

    __tablename__ = "contact_note"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    owner_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    author_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    grant_id: str | None = Field(
        default=None, foreign_key="grant.id", index=True, ondelete="SET NULL"
    )
    owner_key_id: str = Field(max_length=32)
    author_key_id: str = Field(max_length=32)
    sealed_for_owner: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_for_author: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
