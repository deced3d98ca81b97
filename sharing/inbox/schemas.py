from datetime import datetime

from pydantic import BaseModel, Field

from sharing.grants.schemas import GrantOut
from sharing.requests.schemas import RequestOut


class RedeemedLink(BaseModel):
    link_id: str
    owner_handle: str
    redeemed_at: datetime
    download_until: datetime


class InboxOut(BaseModel):
    grants: list[GrantOut] = Field(description="active grants given to you personally")
    organisation_grants: list[GrantOut] = Field(
        description="active grants given to a team you belong to"
    )
    requests: list[RequestOut] = Field(description="requests you sent, with their status")
    links: list[RedeemedLink] = Field(description="links you opened in the last 15 minutes")
