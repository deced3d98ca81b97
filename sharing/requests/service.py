"""Document requests: a worker asks an owner for documents, the owner answers once.

The server knows who asks whom, until when, the status and the grant an answer produced.
What is asked for (purpose, types, message) and the answer (types given or refused, reason)
are signed by their writer and sealed to both people. Closing a request ends its grant at once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from sharing.grants import service as grants
from sharing.grants.models import Grant
from sharing.requests.models import DocumentRequest
from sharing.requests.schemas import RequestAnswer, RequestCreate
from wallet import tx
from wallet.accounts.models import Account
from wallet.db import utcnow
from wallet.errors import Conflict, Invalid, NotFound
from wallet.journal import service as journal

OPEN = "open"
ANSWERED = {"fulfilled", "partly_fulfilled", "refused"}
# A worker cannot flood one person: this many open requests to the same person at most.
MAX_OPEN_PER_PAIR = 20
MAX_DUE = timedelta(days=366)


def create_request(db: Session, requester: Account, data: RequestCreate) -> DocumentRequest:
    owner = grants.lookup(db, data.owner_handle)
    if owner.id == requester.id:
        raise Invalid("You cannot ask yourself for documents.")
    if owner.key_id != data.owner_key_id:
        raise Conflict("This person's key changed. Check their safety code again, then retry.")
    if data.due_at.tzinfo is None:
        raise Invalid("The field 'due_at' needs a time zone, for example 2027-01-31T23:59:00Z.")
    now = utcnow()
    if data.due_at <= now:
        raise Invalid("The due date is in the past. Choose a later date.")
    if data.due_at > now + MAX_DUE:
        raise Invalid("The due date is more than a year away. Choose an earlier date.")
    if db.get(DocumentRequest, data.request_id) is not None:
        raise Conflict("This request id is already used. Send the request again.")
    tx.lock_owner(db, owner.id)
    open_count = db.exec(
        select(func.count())
        .select_from(DocumentRequest)
        .where(DocumentRequest.owner_id == owner.id)
        .where(DocumentRequest.requester_id == requester.id)
        .where(DocumentRequest.status == OPEN)
    ).one()
    if open_count >= MAX_OPEN_PER_PAIR:
        raise Conflict(
            "You already have many open requests for this person. Close some before you ask again."
        )
    request = DocumentRequest(
        id=data.request_id,
        requester_id=requester.id,
        owner_id=owner.id,
        requester_key_id=requester.key_id,
        owner_key_id=owner.key_id,
        sealed_for_owner=data.sealed_for_owner,
        sealed_for_requester=data.sealed_for_requester,
        signature=data.signature,
        due_at=data.due_at,
    )
    db.add(request)
    journal.append(
        db,
        owner.id,
        "request_received",
        actor_kind="account",
        actor_id=requester.id,
        subject_kind="request",
        subject_id=request.id,
    )
    return request


def _party_request(db: Session, caller: Account, request_id: str) -> DocumentRequest:
    """The owner's or the worker's request; anyone else gets the same 404 as an unknown id."""
    request = db.get(DocumentRequest, request_id)
    if request is None or caller.id not in (request.owner_id, request.requester_id):
        raise NotFound()
    return request


def _accounts(db: Session, ids: set[str]) -> dict[str, Account]:
    if not ids:
        return {}
    rows = db.exec(select(Account).where(col(Account.id).in_(sorted(ids)))).all()
    return {account.id: account for account in rows}


def requests_for(db: Session, caller: Account) -> list[tuple[DocumentRequest, Account, Account]]:
    """Requests the caller received (as owner) and sent (as worker): (request, owner, worker)."""
    rows = db.exec(
        select(DocumentRequest)
        .where(
            or_(
                col(DocumentRequest.owner_id) == caller.id,
                col(DocumentRequest.requester_id) == caller.id,
            )
        )
        .order_by(col(DocumentRequest.created_at))
    ).all()
    people = _accounts(db, {r.owner_id for r in rows} | {r.requester_id for r in rows})
    return [(r, people[r.owner_id], people[r.requester_id]) for r in rows]


def sent_requests(db: Session, requester: Account) -> list[tuple[DocumentRequest, Account]]:
    rows = db.exec(
        select(DocumentRequest, Account)
        .join(Account, col(Account.id) == col(DocumentRequest.owner_id))
        .where(DocumentRequest.requester_id == requester.id)
        .order_by(col(DocumentRequest.created_at))
    ).all()
    return list(rows)


def get_request(
    db: Session, caller: Account, request_id: str
) -> tuple[DocumentRequest, Account, Account]:
    request = _party_request(db, caller, request_id)
    people = _accounts(db, {request.owner_id, request.requester_id})
    return request, people[request.owner_id], people[request.requester_id]


def answer_request(
    db: Session, owner: Account, request_id: str, data: RequestAnswer
) -> DocumentRequest:
    # Under the owner's lock: two answers (or an answer and a close) cannot interleave.
    tx.lock_owner(db, owner.id)
    request = db.get(DocumentRequest, request_id)
    if request is None or request.owner_id != owner.id:
        raise NotFound()
    db.refresh(request)
    if request.status != OPEN:
        raise Conflict("This request is already answered or closed. Nothing was changed.")
    if data.status == "refused":
        if data.grant_id is not None:
            raise Invalid("A refusal gives no access: leave 'grant_id' out.")
    else:
        if data.grant_id is None:
            raise Invalid("Say which grant answers the request (grant_id).")
        grant = db.get(Grant, data.grant_id)
        if (
            grant is None
            or grant.owner_id != owner.id
            or grant.grantee_id != request.requester_id
            or grants.state_of(grant) != "active"
        ):
            raise NotFound("This grant does not exist, has ended, or is for someone else.")
        already = db.exec(
            select(DocumentRequest.id).where(DocumentRequest.grant_id == data.grant_id)
        ).first()
        if already is not None:
            raise Conflict("This grant already answers another request. Create a new one.")
    request.status = data.status
    request.grant_id = data.grant_id
    request.answer_for_owner = data.answer_for_owner
    request.answer_for_requester = data.answer_for_requester
    request.answer_signature = data.answer_signature
    request.answered_at = utcnow()
    db.add(request)
    journal.append(
        db,
        owner.id,
        "request_answered",
        subject_kind="request",
        subject_id=request.id,
        details={"status": data.status, **({"grant": data.grant_id} if data.grant_id else {})},
    )
    return request


def close_request(db: Session, caller: Account, request_id: str) -> DocumentRequest:
    """The worker says it is done (or withdraws it), or the owner closes it: the grant it
    produced ends in the same transaction."""
    request = _party_request(db, caller, request_id)
    tx.lock_owner(db, request.owner_id)
    db.refresh(request)
    if request.status == "closed":
        return request
    request.status = "closed"
    request.closed_at = utcnow()
    db.add(request)
    by_owner = caller.id == request.owner_id
    journal.append(
        db,
        request.owner_id,
        "request_closed",
        actor_kind="owner" if by_owner else "account",
        actor_id=None if by_owner else caller.id,
        subject_kind="request",
        subject_id=request.id,
        details={"grant": request.grant_id} if request.grant_id else {},
    )
    grant = db.get(Grant, request.grant_id) if request.grant_id else None
    if grant is not None and grant.revoked_at is None:
        owner = db.get(Account, request.owner_id)
        assert owner is not None
        grants.revoke_grant(db, owner, grant.id)  # in the same transaction as the close
    return request


def close_unanswered(db: Session, owner: Account) -> int:
    """Closes every request to `owner` still waiting for an answer, as if the owner had closed
    it: the asker sees "closed", as for any request closed without an answer, and is told
    nothing else (the emergency reset; the caller holds the owner's lock and writes the
    journal line). Returns how many were closed."""
    waiting = list(
        db.exec(
            select(DocumentRequest)
            .where(DocumentRequest.owner_id == owner.id)
            .where(DocumentRequest.status == OPEN)
        )
    )
    now = utcnow()
    for request in waiting:
        request.status = "closed"
        request.closed_at = now
        db.add(request)
    return len(waiting)
