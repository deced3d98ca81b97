from datetime import datetime

from pydantic import BaseModel, Field

from sharing.grants.schemas import MAX_GRANT_WRAPS, GrantWrapIn
from wallet.accounts.schemas import PublicKeys
from wallet.documents.schemas import MAX_MANIFEST_BYTES, MAX_META_BYTES
from wallet.types import B64, Handle, HexId, Word

ACTIONS = ("share", "upload", "view")
KINDS = ("once", "personal")


class MandateCreate(BaseModel):
    mandate_id: HexId
    proxy_handle: Handle
    proxy_key_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    kind: Word = Field(description="'once' (one procedure, 24 hours at most) or 'personal'")
    actions: list[Word] = Field(description="some of 'view', 'upload', 'share'", max_length=3)
    expires_at: datetime | None = Field(default=None, description="required")
    authorisation: B64 = Field(max_length=4096, description="owner-signed, server-checked")
    authorisation_signature: B64 = Field(min_length=64, max_length=64)
    sealed_for_owner: B64 = Field(max_length=64 * 1024)
    sealed_for_proxy: B64 = Field(max_length=64 * 1024)
    signature: B64 = Field(min_length=64, max_length=64)
    check_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    wraps: list[GrantWrapIn] = Field(default_factory=list, max_length=MAX_GRANT_WRAPS)


class MandateWrapsAdd(BaseModel):
    wraps: list[GrantWrapIn] = Field(default_factory=list, max_length=MAX_GRANT_WRAPS)


class MandateOut(BaseModel):
    id: str
    state: str
    kind: str
    actions: list[str]
    owner: PublicKeys
    proxy: PublicKeys | None = Field(description="None once the proxy deleted its account")
    authorisation: B64
    authorisation_signature: B64
    sealed: B64 = Field(description="sealed for whoever asks: the owner or the proxy")
    signature: B64
    expires_at: datetime
    revoked_at: datetime | None
    renounced_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    documents: int
    links: list[str] = Field(
        default_factory=list,
        description="for the owner: the links the proxy made under it (revoking the mandate "
        "stops them, so the owner's next vault head lists them as revoked)",
    )


class MandateDocument(BaseModel):
    """A document version the proxy may see, with its key sealed to the proxy."""

    document_id: str
    version: int
    size: int
    encrypted_meta: B64
    wrapped_key: B64
    statement: B64 | None = Field(description="the owner's signed statement; none if added by you")
    statement_signature: B64 | None
    manifest: B64
    signature: B64


class MandateDocumentCreate(BaseModel):
    """A new document the proxy adds on the owner's behalf: owned by the owner, sealed to both."""

    document_id: HexId
    upload_id: HexId
    encrypted_meta: B64 = Field(max_length=MAX_META_BYTES)
    owner_wrapped_key: B64 = Field(max_length=1024)
    proxy_wrapped_key: B64 = Field(max_length=1024)
    manifest: B64 = Field(max_length=MAX_MANIFEST_BYTES)
    signature: B64 = Field(min_length=64, max_length=64)


class MandateAction(BaseModel):
    """One entry of the owner's journal that the proxy did under this mandate (ids only)."""

    seq: int
    at: str
    event: str
    subject_kind: str | None
    subject_id: str | None


class MandateCheck(BaseModel):
    """The public answer to an attestation's QR code: valid or not, and until when. No names."""

    valid: bool
    state: str
    until: datetime | None
    message: str
