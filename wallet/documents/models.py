from datetime import datetime

from sqlalchemy import Column, ForeignKeyConstraint, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from wallet.db import new_id, utcnow


class Document(SQLModel, table=True):
    """One owner's document. Its id is the owner's choice (it is in the signed manifests) and
    is scoped to the owner: the key is (id, owner_id), so another owner's id is simply free for
    you, and creating a document never tells whether someone else has one (SECURITY.md)."""

    # Listing pages through one owner's documents in id order.
    __table_args__ = (Index("ix_document_owner_id_id", "owner_id", "id"),)

    id: str = Field(primary_key=True, max_length=32)
    owner_id: str = Field(
        primary_key=True, foreign_key="account.id", index=True, ondelete="CASCADE"
    )
    current_version: int = 1
    # The newest version the owner's signed vault head covers (wallet/vaulthead): a listing
    # shows it beside current_version, so the owner's client can prove neither was rolled back.
    # NULL for a document a proxy added since the owner's last head.
    head_version: int | None = None
    # Copies of the current version's size, sealed metadata and the owner's wrap, already in
    # the API's base64url form, so a listing reads one row per document and passes it through.
    current_size: int = 0
    current_meta_b64: str = Field(default="", sa_column=Column(Text, nullable=False))
    current_wrap_b64: str = Field(default="", sa_column=Column(Text, nullable=False))
    current_manifest_b64: str = Field(default="", sa_column=Column(Text, nullable=False))
    current_signature_b64: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DocumentVersion(SQLModel, table=True):
    """One age file plus its encrypted metadata and the owner-signed manifest."""

    __tablename__ = "document_version"
    __table_args__ = (
        UniqueConstraint("owner_id", "document_id", "version"),
        ForeignKeyConstraint(
            ["document_id", "owner_id"], ["document.id", "document.owner_id"], ondelete="CASCADE"
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    document_id: str = Field(index=True)
    # The document's owner: a document id means something only within one owner's wallet.
    owner_id: str
    version: int
    blob_key: str = Field(unique=True, max_length=80)
    blob_size: int
    encrypted_meta: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    manifest: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class KeyWrap(SQLModel, table=True):
    """A document version's key, sealed (HPKE) to one recipient's public key.

    The owner's own wrap has no grant. A grantee's wrap belongs to one grant (deleted with it)
    and carries the owner's signed statement binding it to the version's blob.
    """

    __tablename__ = "key_wrap"
    __table_args__ = (UniqueConstraint("version_id", "recipient_key_id", "grant_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    version_id: str = Field(foreign_key="document_version.id", index=True, ondelete="CASCADE")
    recipient_key_id: str = Field(max_length=32, index=True)
    grant_id: str | None = Field(
        default=None, foreign_key="grant.id", index=True, ondelete="CASCADE", max_length=32
    )
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    statement: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    statement_signature: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow)
