from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from wallet.accounts.schemas import PublicKeys
from wallet.types import B64, Handle, HexId, Version

MAX_GRANT_WRAPS = 2000


class GrantWrapIn(BaseModel):
    """A document version's key sealed to the grantee, with the owner's signed statement."""

    document_id: HexId
    version: Version
    wrapped_key: B64 = Field(max_length=1024)
    statement: B64 = Field(max_length=4096)
    statement_signature: B64 = Field(min_length=64, max_length=64)


class FieldWrapIn(BaseModel):
    slot: str = Field(pattern=r"^[0-9a-f]{32}$")
    wrapped_key: B64 = Field(max_length=1024)
    statement: B64 = Field(max_length=4096)
    statement_signature: B64 = Field(min_length=64, max_length=64)


class GrantCreate(BaseModel):
    grant_id: HexId
    # A person (grantee_handle) or an organisation's team (grantee_org), not both.
    grantee_handle: Handle | None = None
    grantee_org: Handle | None = None
    grantee_key_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    sealed_for_owner: B64 = Field(max_length=64 * 1024)
    sealed_for_grantee: B64 = Field(max_length=64 * 1024)
    signature: B64 = Field(min_length=64, max_length=64)
    expires_at: datetime | None = None
    wraps: list[GrantWrapIn] = Field(default_factory=list, max_length=MAX_GRANT_WRAPS)
    field_wraps: list[FieldWrapIn] = Field(default_factory=list, max_length=32)

    @model_validator(mode="after")
    def one_grantee(self) -> "GrantCreate":
        if (self.grantee_handle is None) == (self.grantee_org is None):
            raise ValueError("give either grantee_handle (a person) or grantee_org, not both")
        return self


class GrantWrapsAdd(BaseModel):
    wraps: list[GrantWrapIn] = Field(default_factory=list, max_length=MAX_GRANT_WRAPS)
    field_wraps: list[FieldWrapIn] = Field(default_factory=list, max_length=32)
    # The key the wraps are sealed to; needed for a grant to an organisation, whose team key
    # may have changed since the client looked.
    grantee_key_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class OrgRef(BaseModel):
    id: str
    handle: str
    display_name: str
    epoch: int


class GrantOut(BaseModel):
    id: str
    state: str
    owner: PublicKeys
    grantee: PublicKeys = Field(description="the person, or the organisation's current team key")
    grantee_kind: str = "account"
    organisation: OrgRef | None = None
    sealed: B64 = Field(description="sealed for whoever asks: the owner or the grantee")
    signature: B64
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime
    documents: int


class ReceivedDocument(BaseModel):
    document_id: str
    version: int
    size: int
    encrypted_meta: B64
    wrapped_key: B64
    statement: B64
    statement_signature: B64
    manifest: B64 = Field(description="the owner-signed manifest: blob hash and size")
    signature: B64


class ReceivedField(BaseModel):
    slot: str
    ciphertext: B64
    wrapped_key: B64
    field_signature: B64 = Field(description="the owner's signature over the field")
    owner_wrap_sha256: str
    statement: B64
    statement_signature: B64
