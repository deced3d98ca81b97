from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class ProfileField(SQLModel, table=True):
    """One profile field, encrypted on its own so it can later be shared alone.

    The slot is an HMAC of the field name under a key only the owner has: the server cannot
    tell which fields a person filled in.
    """

    __tablename__ = "profile_field"
    __table_args__ = (UniqueConstraint("account_id", "slot"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    account_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    slot: str = Field(max_length=32)
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The owner's signature over slot, ciphertext hash and wrap hash: a server that forged a
    # field (HPKE base mode does not authenticate the sender) is caught by every reader.
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
