from datetime import datetime

from pydantic import BaseModel, Field

from wallet.accounts.schemas import KdfParams, Key32, SessionOut


class OidcStatus(BaseModel):
    """Whether workers can sign in through their organisation on this server."""

    enabled: bool
    issuer: str | None = None
    start_url: str | None = None


class ExchangeCode(BaseModel):
    code: str = Field(min_length=16, max_length=64, description="The one-time code from the page")


class ExchangeParams(BaseModel):
    """Who signed in, and how to turn their passphrase into the auth key and the key that
    unlocks their keys. The code stays unused."""

    handle: str
    kdf: KdfParams


class ExchangeRequest(ExchangeCode):
    auth_key: Key32 = Field(description="Derived from the passphrase, as for login")


class OidcSessionOut(SessionOut):
    """A full session, given only for the organisation's sign-in *and* the passphrase proof:
    the sign-in service alone never gets the locked keys (no offline guessing)."""

    kdf: KdfParams


class LinkStartOut(BaseModel):
    authorization_url: str


class LinkOut(BaseModel):
    linked: bool
    issuer: str | None = None
    linked_at: datetime | None = None
    last_login_at: datetime | None = None


class CallbackOut(BaseModel):
    """The callback's JSON answer (the CLI's; a browser gets a page)."""

    purpose: str
    handle: str
    code: str | None = Field(description="The one-time exchange code, or none for a link.")
    expires_in: int
