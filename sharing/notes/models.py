from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class ContactNote(SQLModel, table=True):
    """A trace of a contact (date, persons, what was said, actions decided).

    Written by the owner, or by a worker under an active grant from the owner. Signed by the
    author and sealed to the owner and to the author: the server keeps ids, the author's handle
    and public keys, and times only.
    """

    __tablename__ = "contact_note"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    owner_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    # SET NULL: a worker who deletes their account does not take the owner's notes away.
    author_id: str | None = Field(
        default=None, foreign_key="account.id", index=True, ondelete="SET NULL"
    )
    grant_id: str | None = Field(
        default=None, foreign_key="grant.id", index=True, ondelete="SET NULL"
    )
    owner_key_id: str = Field(max_length=32)
    author_key_id: str = Field(max_length=32)
    # The author's handle and public keys when they wrote it: the note stays verifiable.
    author_handle: str = Field(max_length=40)
    author_public_encryption_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    author_public_signing_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_for_owner: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_for_author: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
