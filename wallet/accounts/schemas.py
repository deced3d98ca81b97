from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from wallet.accounts.models import Account
from wallet.types import B64, INT32_MAX
from wallet.types import Handle as _StrictHandle


def _normalise_handle(value: Any) -> Any:
    # pydantic checks the pattern before `to_lower`, so "Alice-River" (a phone keyboard's
    # automatic capital) was refused instead of being read as "alice-river".
    return value.strip().lower() if isinstance(value, str) else value


Handle = Annotated[_StrictHandle, BeforeValidator(_normalise_handle)]


# Exact sizes: an anonymous request cannot make the server store or hash megabytes.
Key32 = Annotated[B64, Field(min_length=32, max_length=32)]
LockedKeys = Annotated[B64, Field(min_length=28, max_length=1024)]


class KdfParams(BaseModel):
    algorithm: str = "argon2id"
    salt: B64
    opslimit: int
    memlimit: int


class NewAccountParams(BaseModel):
    """What a client needs to create an account: the cost of the passphrase hash."""

    algorithm: str = "argon2id"
    opslimit: int
    memlimit: int
    suggested_handle: str


class AccountCreate(BaseModel):
    handle: Handle
    kdf_salt: B64 = Field(min_length=16, max_length=16, description="16 random bytes")
    kdf_opslimit: int = Field(ge=1, le=1_000)
    kdf_memlimit: int = Field(ge=8192, le=INT32_MAX)  # an `integer` column
    auth_key: Key32
    recovery_auth_key: Key32
    public_encryption_key: Key32
    public_signing_key: Key32
    keys_by_passphrase: LockedKeys
    keys_by_recovery: LockedKeys


class PreloginRequest(BaseModel):
    handle: Handle


class LoginRequest(BaseModel):
    handle: Handle
    auth_key: Key32


class RecoverRequest(BaseModel):
    handle: Handle
    recovery_auth_key: Key32


class AccountOut(BaseModel):
    id: str
    handle: str
    key_id: str
    public_encryption_key: B64
    public_signing_key: B64
    keys_by_passphrase: B64
    created_at: datetime


class SessionOut(BaseModel):
    token: str
    kind: str
    expires_at: datetime
    account: AccountOut


class RecoverySessionOut(SessionOut):
    keys_by_recovery: B64


class RecoveryKeyChange(BaseModel):
    """A new recovery key: the old sheet stops working in the same transaction."""

    current_auth_key: Key32 = Field(description="Proof of the current passphrase")
    recovery_auth_key: Key32
    keys_by_recovery: LockedKeys


class PassphraseChange(BaseModel):
    current_auth_key: Key32 | None = Field(
        default=None, description="Required unless the session comes from the recovery key"
    )
    kdf_salt: B64 = Field(min_length=16, max_length=16)
    kdf_opslimit: int = Field(ge=1, le=1_000)
    kdf_memlimit: int = Field(ge=8192, le=INT32_MAX)  # an `integer` column
    auth_key: Key32
    keys_by_passphrase: LockedKeys


class AccountDelete(BaseModel):
    auth_key: Key32


class SessionInfo(BaseModel):
    id: str
    kind: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool
    device: str | None = Field(default=None, description="phone, tablet, computer or command line")


class PublicKeys(BaseModel):
    handle: str
    key_id: str
    public_encryption_key: B64
    public_signing_key: B64

    @classmethod
    def of(cls, account: Account) -> "PublicKeys":
        return cls(
            handle=account.handle,
            key_id=account.key_id,
            public_encryption_key=account.public_encryption_key,
            public_signing_key=account.public_signing_key,
        )
