from typing import Literal

import orjson
from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from wallet.deps import DB, FullCaller
from wallet.journal import service
from wallet.journal.schemas import JournalPage
from wallet.types import Position

router = APIRouter(tags=["journal"])


@router.get("/journal", response_model=JournalPage)
def journal(
    caller: FullCaller,
    db: DB,
    after: Position = 0,
    limit: int = Query(default=service.MAX_PAGE, ge=1, le=service.MAX_PAGE),
) -> Response:
    """The owner's journal, oldest first, with its hash chain for the client to verify."""
    entries, next_after = service.page(db, caller.account.id, after, limit)
    return Response(
        orjson.dumps({"entries": entries, "next_after": next_after}), media_type="application/json"
    )


class Refusal(BaseModel):
    """What the owner's own client refused to believe, in one word (never any content):
    - rewound: an older vault head than this device had seen, or none at all;
    - changed: a state the owner's head does not describe (a revived grant, mandate or link,
      a document rolled back or hidden, a profile field put back);
    - unsigned: a head the owner's key did not sign."""

    reason: Literal["rewound", "changed", "unsigned"]


@router.post("/journal/refusals", status_code=status.HTTP_204_NO_CONTENT)
def record_refusal(data: Refusal, caller: FullCaller, db: DB) -> Response:
    """The owner's client writes down that it refused the state the server showed. A server
    that drops this entry still cannot hide it from that client, which told the person."""
    service.append(db, caller.account.id, "state_refused", details={"reason": data.reason})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
