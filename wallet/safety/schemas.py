from pydantic import BaseModel, Field


class ResetPlan(BaseModel):
    """What the reset would end now: the client signs a vault head listing these as revoked."""

    grants: list[str] = Field(description="Grants not revoked yet (people and organisations)")
    mandates: list[str]
    links: list[str]
    other_sessions: int


class ResetDone(BaseModel):
    """How many of each were ended by this reset (0 when run again after it finished)."""

    grants: int
    mandates: int
    links: int
    sessions: int
