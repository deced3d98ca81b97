from datetime import datetime

from pydantic import BaseModel, Field

from wallet.types import B64, HexId, Version
from wallet.vaulthead.schemas import CounterpartHeadOut

MAX_LINK_ITEMS = 200
MAX_LINK_USES = 100


class LinkItemIn(BaseModel):
    document_id: HexId
    version: Version


class LinkCreate(BaseModel):
    link_id: HexId
    proof_key: B64 = Field(min_length=32, max_length=32)
    pin_check: B64 | None = Field(default=None, min_length=32, max_length=32)
    server_share: B64 = Field(min_length=32, max_length=32)
    sealed_package: B64 = Field(max_length=512 * 1024)
    sealed_preview: B64 = Field(max_length=16 * 1024)
    descriptor: B64 = Field(max_length=64 * 1024)
    signature: B64 = Field(min_length=64, max_length=64)
    uses: int = Field(default=1, ge=1, le=MAX_LINK_USES)
    expires_at: datetime
    items: list[LinkItemIn] = Field(default_factory=list, max_length=MAX_LINK_ITEMS)


class LinkOut(BaseModel):
    id: str
    state: str
    uses_total: int
    uses_left: int
    failed_pins: int
    pin: bool
    expires_at: datetime
    created_at: datetime
    revoked_at: datetime | None
    sealed_preview: B64
    items: list[LinkItemIn]


class ChallengeOut(BaseModel):
    challenge_id: str
    nonce: B64
    expires_at: datetime


class LinkProof(BaseModel):
    challenge_id: HexId
    proof: B64 = Field(min_length=64, max_length=64)


class RedeemRequest(LinkProof):
    pin_check: B64 | None = Field(default=None, min_length=32, max_length=32)


class LinkSender(BaseModel):
    """An account as this server knows it (its own records, not the link's package)."""

    handle: str
    public_signing_key: B64
    public_encryption_key: B64


class PreviewOut(BaseModel):
    """A dead link (used, expired, stopped or locked) answers with its state and message only:
    every other field is null, so it no longer tells its purpose, owner or sender."""

    state: str
    message: str | None
    pin_required: bool
    sealed_preview: B64 | None
    expires_at: datetime | None
    # The link's signed descriptor (it covers the sealed preview), so the redeemer can check
    # the sender before anything is used.
    descriptor: B64 | None
    signature: B64 | None
    # The account that made the link (null if it no longer exists), and the owner it acted
    # for when a proxy made it under a mandate. The redeemer's client checks that the signed
    # preview and package name exactly these accounts.
    sender: LinkSender | None
    on_behalf_of: LinkSender | None


class RedeemOut(BaseModel):
    server_share: B64
    sealed_package: B64
    descriptor: B64
    signature: B64
    download_token: str
    download_expires_at: datetime
    uses_left: int
    sender: LinkSender | None
    on_behalf_of: LinkSender | None
    # The owner's newest vault head and the links it lists as revoked: the recipient's client
    # refuses a link its owner took back, whatever the server says.
    owner_head: CounterpartHeadOut
