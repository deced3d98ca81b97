from datetime import datetime

from pydantic import BaseModel, Field

from wallet.types import B64

MAX_FIELD_BYTES = 16 * 1024


class FieldPut(BaseModel):
    ciphertext: B64 = Field(max_length=MAX_FIELD_BYTES)
    wrapped_key: B64 = Field(max_length=1024)
    signature: B64 = Field(
        min_length=64, max_length=64, description="owner's Ed25519 over slot and hashes"
    )


class FieldOut(BaseModel):
    slot: str
    ciphertext: B64
    wrapped_key: B64
    signature: B64
    updated_at: datetime
