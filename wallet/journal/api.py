from typing import Any

from fastapi import APIRouter, Query

from wallet.deps import DB, FullCaller
from wallet.journal import service

router = APIRouter(tags=["journal"])


@router.get("/journal")
def journal(
    caller: FullCaller,
    db: DB,
    after: int = Query(default=0, ge=0),
    limit: int = Query(default=service.MAX_PAGE, ge=1, le=service.MAX_PAGE),
) -> dict[str, Any]:
    """The owner's journal, oldest first, with its hash chain for the client to verify."""
    entries = service.entries(db, caller.account.id, after, limit)
    return {
        "entries": [service.as_dict(entry) for entry in entries],
        "next_after": entries[-1].seq if len(entries) == limit else None,
    }
