from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from wallet.db import utcnow


class VaultHead(SQLModel, table=True):
    """The newest head the owner signed (wallet/protocol/statements.py VAULT_HEAD). The server
    keeps it and hands it out; it cannot make one, and a client refuses an older one."""

    __tablename__ = "vault_head"

    owner_id: str = Field(
        foreign_key="account.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    seq: int
    statement: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # What the head covers besides documents (whose covered version sits on each row), as it
    # was when the head was accepted: {"profile": {slot: sha256}, "revoked": {kind: [ids]}}.
    # Kept, not recomputed, so a row deleted later (a grantee's account gone) changes nothing.
    covered: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
