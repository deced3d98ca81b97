from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class Account(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    handle: str = Field(unique=True, index=True, max_length=40)
    kdf_salt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    kdf_opslimit: int
    kdf_memlimit: int
    auth_hash: str = Field(max_length=255)
    recovery_auth_hash: str = Field(max_length=255)
    public_encryption_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    public_signing_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_id: str = Field(index=True, max_length=32)
    keys_by_passphrase: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    keys_by_recovery: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    account_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    # "full" for a login; "recovery" may only set a new passphrase.
    kind: str = Field(default="full", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_seen_at: datetime = Field(default_factory=utcnow)
    # Only a coarse kind (phone, tablet, computer, command line), never the User-Agent itself.
    device: str | None = Field(default=None, max_length=16)


class LoginThrottle(SQLModel, table=True):
    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=80)
    failures: int = 0
    blocked_until: datetime | None = None
    last_failure_at: datetime = Field(default_factory=utcnow)
    # Reservations counted in `failures` whose secret is still being checked, and when the
    # last one was made: an attempt refused while some are in flight waits for them, since a
    # success among them clears the count (wallet/accounts/service.py, _reserve_attempt).
    in_flight: int = 0
    reserved_at: datetime | None = None
