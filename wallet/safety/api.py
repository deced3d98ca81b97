from fastapi import APIRouter

from sharing.emergency import service as emergency
from wallet.deps import DB, FullCaller, VaultChange
from wallet.safety import service
from wallet.safety.schemas import ResetDone, ResetPlan

router = APIRouter(tags=["safety"])


@router.get("/safety/reset", response_model=ResetPlan)
def reset_plan(caller: FullCaller, db: DB) -> ResetPlan:
    """What an emergency reset would end now. Nothing changes."""
    still = service.still_open(db, caller.account.id)
    arrangements = emergency.open_ids(db, caller.account.id)
    return ResetPlan(
        # An emergency-access arrangement is listed with the revoked grants of the owner's head.
        grants=sorted([*still.grants, *arrangements]),
        emergency=arrangements,
        mandates=still.mandates,
        links=still.links,
        other_sessions=len(service.other_sessions(db, caller.account.id, caller.session.id)),
    )


@router.post("/safety/reset", response_model=ResetDone, dependencies=[VaultChange])
def reset(caller: FullCaller, db: DB) -> ResetDone:
    """Ends every other session and every grant, mandate and link still open, in one
    transaction, under the owner's next vault head (which must list all of them as revoked)."""
    return ResetDone(**service.reset(db, caller.account, caller.session))
