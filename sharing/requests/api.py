from __future__ import annotations

from fastapi import APIRouter, status

from sharing.requests import service
from sharing.requests.models import DocumentRequest
from sharing.requests.schemas import Party, RequestAnswer, RequestCreate, RequestOut
from wallet.accounts.models import Account
from wallet.deps import DB, FullCaller
from wallet.types import Ref

router = APIRouter(tags=["requests"])


def party(account: Account) -> Party:
    return Party(
        id=account.id,
        handle=account.handle,
        key_id=account.key_id,
        public_encryption_key=account.public_encryption_key,
        public_signing_key=account.public_signing_key,
    )


def request_out(
    request: DocumentRequest, owner: Account, requester: Account, caller: Account
) -> RequestOut:
    incoming = caller.id == request.owner_id
    return RequestOut(
        id=request.id,
        direction="incoming" if incoming else "outgoing",
        status=request.status,
        owner=party(owner),
        requester=party(requester),
        sealed=request.sealed_for_owner if incoming else request.sealed_for_requester,
        signature=request.signature,
        due_at=request.due_at,
        created_at=request.created_at,
        answered_at=request.answered_at,
        closed_at=request.closed_at,
        grant_id=request.grant_id,
        answer=request.answer_for_owner if incoming else request.answer_for_requester,
        answer_signature=request.answer_signature,
    )


@router.post("/requests", status_code=status.HTTP_201_CREATED)
def create_request(data: RequestCreate, caller: FullCaller, db: DB) -> dict[str, str]:
    """A worker asks a person for documents. What is asked is sealed to both of them."""
    return {"id": service.create_request(db, caller.account, data).id}


@router.get("/requests", response_model=list[RequestOut])
def list_requests(caller: FullCaller, db: DB) -> list[RequestOut]:
    """Requests you received (incoming) and sent (outgoing)."""
    return [
        request_out(request, owner, requester, caller.account)
        for request, owner, requester in service.requests_for(db, caller.account)
    ]


@router.get("/requests/{request_id}", response_model=RequestOut)
def get_request(request_id: Ref, caller: FullCaller, db: DB) -> RequestOut:
    request, owner, requester = service.get_request(db, caller.account, request_id)
    return request_out(request, owner, requester, caller.account)


@router.post("/requests/{request_id}/answer", response_model=RequestOut)
def answer_request(request_id: Ref, data: RequestAnswer, caller: FullCaller, db: DB) -> RequestOut:
    """The owner's one answer: a grant covering what they give, and what they refuse."""
    service.answer_request(db, caller.account, request_id, data)
    request, owner, requester = service.get_request(db, caller.account, request_id)
    return request_out(request, owner, requester, caller.account)


@router.post("/requests/{request_id}/close", response_model=RequestOut)
def close_request(request_id: Ref, caller: FullCaller, db: DB) -> RequestOut:
    """Done, or withdrawn: the grant the request produced ends at once."""
    service.close_request(db, caller.account, request_id)
    request, owner, requester = service.get_request(db, caller.account, request_id)
    return request_out(request, owner, requester, caller.account)
