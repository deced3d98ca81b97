from datetime import datetime

from pydantic import BaseModel, Field

from wallet.types import B64, HexId

MAX_META_BYTES = 64 * 1024
MAX_MANIFEST_BYTES = 16 * 1024


class VersionCreate(BaseModel):
    """Completes an upload as a document version. Everything here is ciphertext or signed."""

    upload_id: HexId
    encrypted_meta: B64 = Field(max_length=MAX_META_BYTES)
    wrapped_key: B64 = Field(max_length=1024)
    manifest: B64 = Field(max_length=MAX_MANIFEST_BYTES)
    signature: B64 = Field(min_length=64, max_length=64)


class DocumentCreate(VersionCreate):
    document_id: HexId


class VersionOut(BaseModel):
    version: int
    size: int
    created_at: datetime
    encrypted_meta: B64
    wrapped_key: B64
    manifest: B64
    signature: B64


class DocumentOut(BaseModel):
    id: str
    current_version: int
    # The version the owner's newest vault head covers (None: added by a proxy since).
    head_version: int | None
    created_at: datetime
    updated_at: datetime
    versions: list[VersionOut]


class DocumentPage(BaseModel):
    """One page of documents: the current version of each, with its sealed key."""

    documents: list[dict] = Field(
        description="id, current_version, head_version, versions, created_at, updated_at, size, "
        "encrypted_meta, wrapped_key"
    )
    next_cursor: str | None
