from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class ShareLink(SQLModel, table=True):
    """A link https://HOST/s/<id>#<secret>. The server never sees the secret or the PIN.

    It holds: a public key to check the redeemer's proof of the secret, a hash of the PIN
    verifier, its own key share (deleted at the last use, which kills the link for good),
    and the package sealed under a key derived from secret + share (+ PIN).
    """

    __tablename__ = "share_link"
    __table_args__ = (UniqueConstraint("owner_id", "public_id"),)

    # The row's key, which the link's items, download sessions and mandate refer to: the
    # link's id, unless another owner's link already has it; then a fresh key, so creating a
    # link never tells whether someone else keeps one with that id (SECURITY.md, "Ids").
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    # The id its maker chose: in the address /s/<id>, the signed descriptor and the key
    # derivations; unique per owner. A redeem finds the link by it and by the proof of the
    # secret, so another owner's link with the same id can neither answer for it nor block it.
    public_id: str = Field(max_length=32, index=True)
    owner_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    # The account that made and signed the link: the owner, or a proxy under a mandate. Preview
    # and redeem name this account from here, never from what the link's maker wrote, and the
    # redeemer's client refuses a link whose package names someone else. No foreign key (so
    # migration 0006 adds it without copying share_link on SQLite): once a proxy deletes its
    # account the id points at nobody, and its links can no longer show a verified sender.
    creator_id: str | None = Field(default=None, index=True, max_length=32)
    proof_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    pin_check: str | None = Field(default=None, max_length=64)
    server_share: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    sealed_package: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    sealed_preview: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    descriptor: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uses_total: int
    uses_left: int
    failed_pins: int = 0
    locked: bool = False
    expires_at: datetime
    revoked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class LinkItem(SQLModel, table=True):
    """A document version a link gives access to (ids only)."""

    __tablename__ = "link_item"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    link_id: str = Field(foreign_key="share_link.id", index=True, ondelete="CASCADE")
    document_id: str = Field(max_length=32)
    version: int


class LinkChallenge(SQLModel, table=True):
    __tablename__ = "link_challenge"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    link_id: str = Field(max_length=32, index=True)
    nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: datetime = Field(index=True)


class LinkDownloadSession(SQLModel, table=True):
    """About 15 minutes after a redeem, so a slow network does not cost a second use."""

    __tablename__ = "link_download_session"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    link_id: str = Field(foreign_key="share_link.id", index=True, ondelete="CASCADE")
    expires_at: datetime
    # The logged-in account that redeemed, if any: only to list the link in its inbox.
    redeemer_id: str | None = Field(
        default=None, foreign_key="account.id", index=True, ondelete="SET NULL"
    )
