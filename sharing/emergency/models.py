from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from wallet.db import utcnow


class EmergencyAccess(SQLModel, table=True):
    """One arrangement: who may ask, for what, after how long a wait.

    `statement` is the owner's signed emergency-access statement; `sealed` holds the owner's
    keys sealed to the trusted person's key (the server cannot open it) and is emptied when the
    arrangement ends or is used. The server hands `sealed` over only once `wait_days` have
    passed after `requested_at` without a refusal.
    """

    __tablename__ = "emergency_access"

    id: str = Field(primary_key=True, max_length=32)
    owner_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    trusted_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    trusted_key_id: str = Field(max_length=32)
    access: str = Field(max_length=8)  # "view" or "takeover"
    wait_days: int
    statement: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    requested_at: datetime | None = None
    refused_at: datetime | None = None
    released_at: datetime | None = None  # when the keys were first handed over
    taken_over_at: datetime | None = None
    revoked_at: datetime | None = None  # ended by the owner (listed in the owner's head)
