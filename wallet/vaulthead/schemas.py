from pydantic import BaseModel, Field

from wallet.types import B64

MAX_HEAD_BYTES = 2048


class SignedHead(BaseModel):
    """A vault-head statement (its exact signed bytes) and the owner's signature."""

    statement: B64 = Field(max_length=MAX_HEAD_BYTES)
    signature: B64 = Field(min_length=64, max_length=64)


class RevokedIds(BaseModel):
    grants: list[str]
    mandates: list[str]
    links: list[str]


class OwnerHeadOut(BaseModel):
    """For the owner: the newest head and the lists it covers that a listing does not show
    (documents carry their head_version in the documents listing)."""

    head: SignedHead | None
    profile: dict[str, str]  # slot -> SHA-256 of the field's ciphertext
    revoked: RevokedIds


class CounterpartHeadOut(BaseModel):
    """For a grantee, a proxy or a link's recipient: the owner's newest head and the revoked
    ids of the one kind it covers that this party can check its own access against."""

    head: SignedHead | None
    revoked: list[str]

    @classmethod
    def of(cls, head: tuple[bytes, bytes] | None, revoked: list[str]) -> "CounterpartHeadOut":
        signed = None if head is None else SignedHead(statement=head[0], signature=head[1])
        return cls(head=signed, revoked=revoked)


class HeadAccepted(BaseModel):
    seq: int
