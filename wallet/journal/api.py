import orjson
from fastapi import APIRouter, Query, Response

from wallet.deps import DB, FullCaller
from wallet.journal import service
from wallet.types import Position

router = APIRouter(tags=["journal"])


@router.get("/journal")
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
