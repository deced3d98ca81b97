from datetime import datetime

from pydantic import BaseModel, Field

from wallet.accounts.schemas import KdfParams, SessionOut


class OidcStatus(BaseModel):
    """Whether workers can sign in through their organisation on this server."""

    enabled: bool
    issuer: str | None = None
    start_url: str | None = None


class ExchangeRequest(BaseModel):
    code: str = Field(min_length=16, max_length=64, description="The one-time code from the page")


class OidcSessionOut(SessionOut):
    """A full session. The keys stay locked: `kdf` lets the client turn the passphrase into the
    key that unlocks `account.keys_by_passphrase`; no auth key is needed or sent."""

    kdf: KdfParams


class LinkStartOut(BaseModel):
    authorization_url: str


class LinkOut(BaseModel):
    linked: bool
    issuer: str | None = None
    linked_at: datetime | None = None
    last_login_at: datetime | None = None
