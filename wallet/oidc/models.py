"""Tables for worker login through the organisation's OpenID Connect provider."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class OidcIdentity(SQLModel, table=True):
    """One sign-in identity (issuer, subject) linked to one wallet account, by its worker."""

    __tablename__ = "oidc_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    account_id: str = Field(
        foreign_key="account.id", unique=True, index=True, ondelete="CASCADE", max_length=32
    )
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class OidcLogin(SQLModel, table=True):
    """A sign-in in progress: its state, nonce and PKCE verifier live here, server side only.

    The state is stored as a hash; the nonce and verifier are wiped when the state is used.
    """

    __tablename__ = "oidc_login"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    state_hash: str = Field(unique=True, index=True, max_length=64)
    # "login", or "link" (bind an identity to the account that started it).
    purpose: str = Field(max_length=16)
    account_id: str | None = Field(
        default=None, foreign_key="account.id", index=True, ondelete="CASCADE", max_length=32
    )
    # Hash of a cookie set on the browser that started a login: a callback from another
    # browser (someone else's sign-in pushed onto you) is refused.
    browser_hash: str | None = Field(default=None, max_length=64)
    nonce: str | None = Field(default=None, max_length=128)
    code_verifier: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None


class OidcExchange(SQLModel, table=True):
    """A one-time code that turns a finished sign-in into a wallet session token."""

    __tablename__ = "oidc_exchange"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    code_hash: str = Field(unique=True, index=True, max_length=64)
    account_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE", max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None
