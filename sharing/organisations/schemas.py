from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from wallet.accounts.schemas import PublicKeys
from wallet.types import B64, Handle, HexId

KEY_ID = r"^[0-9a-f]{32}$"
MAX_MEMBERS = 5000
MAX_ROTATION_WRAPS = 200_000


class TeamKeyIn(BaseModel):
    """A new team key's public halves and the statement that links it to the previous one."""

    key_id: str = Field(pattern=KEY_ID)
    public_encryption_key: B64 = Field(min_length=32, max_length=32)
    public_signing_key: B64 = Field(min_length=32, max_length=32)
    statement: B64 = Field(max_length=4096)
    signature: B64 = Field(min_length=64, max_length=64)


class SealedCopyIn(BaseModel):
    """The team's private keys sealed to one member, with the sealing admin's signed statement."""

    handle: Handle
    member_key_id: str = Field(pattern=KEY_ID)
    sealed_team_key: B64 = Field(max_length=4096)
    statement: B64 = Field(max_length=4096)
    signature: B64 = Field(min_length=64, max_length=64)


class OrgCreate(BaseModel):
    org_id: HexId
    display_name: str = Field(min_length=2, max_length=120)
    team_key: TeamKeyIn
    creator_copy: SealedCopyIn


class MemberAdd(BaseModel):
    role: Literal["admin", "worker"] = "worker"
    copy_for_member: SealedCopyIn


class RoleChange(BaseModel):
    role: Literal["admin", "worker"]


class Rewrap(BaseModel):
    id: HexId
    wrapped_key: B64 = Field(max_length=1024)


class GrantReseal(BaseModel):
    grant_id: HexId
    sealed_for_grantee: B64 = Field(max_length=64 * 1024)


class Rotation(BaseModel):
    """Everything the old team key protects, resealed to a new one: swapped in all at once."""

    previous_team_key_id: str = Field(pattern=KEY_ID)
    remove: Handle | None = None
    team_key: TeamKeyIn
    copies: list[SealedCopyIn] = Field(max_length=MAX_MEMBERS)
    grants: list[GrantReseal] = Field(default_factory=list, max_length=MAX_ROTATION_WRAPS)
    document_wraps: list[Rewrap] = Field(default_factory=list, max_length=MAX_ROTATION_WRAPS)
    field_wraps: list[Rewrap] = Field(default_factory=list, max_length=MAX_ROTATION_WRAPS)


class TeamKeyOut(BaseModel):
    epoch: int
    key_id: str
    public_encryption_key: B64
    public_signing_key: B64
    statement: B64
    signature: B64


class OrgPublic(BaseModel):
    """What anyone may know of an organisation: its name, its chain of team keys, its safety
    code and its admins, so an owner can check an office before trusting it."""

    id: str
    handle: str
    display_name: str
    epoch: int
    team_keys: list[TeamKeyOut]
    safety_code: str = Field(
        description="The current team key's safety code, to read aloud with the office. "
        "A client computes its own from team_keys and trusts only that one."
    )
    admins: list[str] = Field(description="The handles of its admins, who add and remove staff.")


class MemberOut(BaseModel):
    keys: PublicKeys
    role: str
    added_at: datetime


class MyCopy(BaseModel):
    team_key_id: str
    sealed_team_key: B64
    statement: B64
    signature: B64
    sealed_by: PublicKeys


class OrgOut(BaseModel):
    id: str
    handle: str
    display_name: str
    role: str = Field(description="your role: admin or worker")
    epoch: int
    team_key: TeamKeyOut
    members: list[MemberOut]
    my_copy: MyCopy


class OrgSummary(BaseModel):
    id: str
    handle: str
    display_name: str
    role: str
    members: int


class GrantSealed(BaseModel):
    grant_id: str
    sealed_for_grantee: B64


class WrapOut(BaseModel):
    id: str
    grant_id: str
    document_id: str
    version: int
    wrapped_key: B64


class FieldWrapOut(BaseModel):
    id: str
    grant_id: str
    slot: str
    wrapped_key: B64


class TeamWraps(BaseModel):
    """Everything sealed to the current team key, for the admin's client to reseal."""

    team_key_id: str
    grants: list[GrantSealed]
    document_wraps: list[WrapOut]
    field_wraps: list[FieldWrapOut]


class OrgEventOut(BaseModel):
    at: datetime
    event: str
    actor: str | None
    subject: str | None
    details: str


class Created(BaseModel):
    id: str
    handle: str


class Rotated(BaseModel):
    epoch: int
    team_key_id: str
    rewrapped: int
