from fastapi import APIRouter

from wallet.deps import DB, FullCaller
from wallet.vaulthead import service
from wallet.vaulthead.models import VaultHead
from wallet.vaulthead.schemas import (
    HeadAccepted,
    OwnerHeadOut,
    RevokedIds,
    SignedHead,
)

router = APIRouter(tags=["vault head"])


def signed(row: VaultHead | None) -> SignedHead | None:
    return None if row is None else SignedHead(statement=row.statement, signature=row.signature)


@router.get("/vault/head", response_model=OwnerHeadOut)
def own_head(caller: FullCaller, db: DB) -> OwnerHeadOut:
    """The newest head and what it covered when it was signed (documents: the listing's
    head_version). The owner's client checks both against the head's digests."""
    row = service.current(db, caller.account.id)
    covered = service.covered(row)
    return OwnerHeadOut(
        head=signed(row),
        profile=covered["profile"],
        revoked=RevokedIds(**covered["revoked"]),
    )


@router.put("/vault/head", response_model=HeadAccepted)
def replace_head(data: SignedHead, caller: FullCaller, db: DB) -> HeadAccepted:
    """The first head, or a new one over what others changed (a proxy's document)."""
    return HeadAccepted(seq=service.replace(db, caller.account, data.statement, data.signature))
