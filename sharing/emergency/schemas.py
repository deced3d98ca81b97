from datetime import datetime

from pydantic import BaseModel, Field

from wallet.accounts.schemas import Key32, LockedKeys, PublicKeys
from wallet.types import B64, Handle, HexId, Word

ACCESS = ("view", "takeover")
MIN_WAIT_DAYS = 1
MAX_WAIT_DAYS = 30
# The owner's private keys as JSON, sealed: a few hundred bytes.
MAX_SEALED_BYTES = 2048


class EmergencyCreate(BaseModel):
    arrangement_id: HexId
    trusted_handle: Handle
    trusted_key_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    access: Word = Field(description="'view' (read the papers and details) or 'takeover'")
    wait_days: int = Field(ge=MIN_WAIT_DAYS, le=MAX_WAIT_DAYS, description="from 1 to 30")
    statement: B64 = Field(max_length=4096, description="owner-signed emergency-access")
    signature: B64 = Field(min_length=64, max_length=64)
    sealed: B64 = Field(max_length=MAX_SEALED_BYTES, description="the keys, for the trusted")


class EmergencyOut(BaseModel):
    id: str
    state: str = Field(description="standby, waiting, released, used or ended")
    access: str
    wait_days: int
    owner: PublicKeys
    trusted: PublicKeys
    statement: B64
    signature: B64
    created_at: datetime
    requested_at: datetime | None
    release_at: datetime | None = Field(description="when a waiting request is released")
    refused_at: datetime | None
    released_at: datetime | None
    taken_over_at: datetime | None
    revoked_at: datetime | None


class EmergencyOpened(BaseModel):
    """For the trusted person, once released: the owner's keys, sealed to them."""

    id: str
    access: str
    owner: PublicKeys
    statement: B64
    signature: B64
    sealed: B64


class TakeOver(BaseModel):
    """The owner's new passphrase, chosen by the trusted person: what a passphrase change
    sends, with the owner's keys locked under the new passphrase."""

    kdf_salt: B64 = Field(min_length=16, max_length=16)
    kdf_opslimit: int = Field(ge=1, le=1_000)
    kdf_memlimit: int = Field(ge=8192, le=2**31 - 1)
    auth_key: Key32
    keys_by_passphrase: LockedKeys
