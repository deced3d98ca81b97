from pydantic import BaseModel, Field


class ResetPlan(BaseModel):
    """What the reset would end now: the client signs a vault head listing these as revoked."""

    grants: list[str] = Field(
        description="Grants not revoked yet (people and organisations), and emergency-access "
        "arrangements not ended yet (the head lists them with the revoked grants)"
    )
    mandates: list[str]
    links: list[str]
    other_sessions: int
    emergency: list[str] = Field(
        default_factory=list, description="Which of `grants` are emergency-access arrangements"
    )


class ResetDone(BaseModel):
    """How many of each were ended by this reset (0 when run again after it finished)."""

    grants: int
    mandates: int
    links: int
    sessions: int
    emergency: int = 0
    requests: int = Field(
        default=0, description="Requests to the owner still waiting for an answer, now closed"
    )
