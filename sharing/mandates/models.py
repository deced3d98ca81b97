from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class Mandate(SQLModel, table=True):
    """A digital proxy ("procuration numérique"): a trusted person acts for the owner.

    What the server enforces is plain here and signed by the owner (`authorisation`): who, with
    which key, which actions, one-shot or personalised, until when. Purpose and scope (procedure
    categories, chosen documents) are in the descriptor, sealed to owner and proxy.
    """

    id: str = Field(primary_key=True, max_length=32)
    owner_id: str = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    # Kept when the proxy deletes its account: the owner still reads who acted, and checks
    # the documents the proxy added against the key the owner signed.
    proxy_id: str | None = Field(
        default=None, foreign_key="account.id", index=True, ondelete="SET NULL", max_length=32
    )
    proxy_key_id: str = Field(max_length=32)
    kind: str = Field(max_length=8)  # "once" or "personal"
    actions: str = Field(max_length=40)  # "share,upload,view" (sorted, comma separated)
    authorisation: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    authorisation_signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_for_owner: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_for_proxy: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # SHA-256 of the random code printed in the attestation's QR code.
    check_hash: str = Field(max_length=64)
    expires_at: datetime
    revoked_at: datetime | None = None
    renounced_at: datetime | None = None
    completed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class MandateWrap(SQLModel, table=True):
    """A document version's key sealed to the proxy under one mandate; deleted when it ends.

    Wraps the owner gave carry the owner's signed statement. The wrap of a document the proxy
    added itself has none: the proxy's own signed manifest lists it.
    """

    __tablename__ = "mandate_wrap"
    __table_args__ = (UniqueConstraint("mandate_id", "version_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    mandate_id: str = Field(foreign_key="mandate.id", index=True, ondelete="CASCADE")
    version_id: str = Field(foreign_key="document_version.id", index=True, ondelete="CASCADE")
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    statement: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    statement_signature: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow)


class MandateLink(SQLModel, table=True):
    """A share link a proxy created under a mandate: revoking the mandate stops it too."""

    __tablename__ = "mandate_link"

    link_id: str = Field(
        primary_key=True, foreign_key="share_link.id", ondelete="CASCADE", max_length=32
    )
    mandate_id: str = Field(foreign_key="mandate.id", index=True, ondelete="CASCADE")
