"""Document requests on the client: the worker asks, the owner answers in one step.

What is asked (purpose, types, message, due date) is signed by the worker and sealed to both
people; the owner's answer (types given and refused, reason) is signed by the owner and sealed
to both. Each side checks the other's signature with the key it pinned for that handle.
"""

from __future__ import annotations

import difflib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from wallet.client import grants as grantlib
from wallet.client.api import ApiError
from wallet.client.contacts import KeyChanged, PinStore, person, safety_code
from wallet.client.vault import DocumentInfo, IntegrityFailure, Vault, VaultError
from wallet.crypto.encoding import b64d, b64e
from wallet.crypto.signing import BadSignature, sign, verify
from wallet.crypto.wrap import UnwrapError, key_id, open_sealed, seal
from wallet.protocol import labels, statements
from wallet.protocol.catalogue import DOCUMENT_TYPES

# The social-inquiry rhythm: a decision within 30 days, its notification within 8 more.
DECISION_DAYS = 30
NOTIFICATION_DAYS = 8
MAX_TYPES = 40
MAX_TEXT = 2000
CHANGED = "A request was changed on the server. Do not trust it."
STATUS_WORDS = {
    "open": "waiting for an answer",
    "fulfilled": "answered: everything was given",
    "partly_fulfilled": "answered: part was given",
    "refused": "refused",
    "closed": "closed",
}


def request_info(request_id: str, recipient_key_id: str) -> bytes:
    return labels.info(labels.REQUEST, request_id, recipient_key_id)


def answer_info(request_id: str, recipient_key_id: str) -> bytes:
    return labels.info(labels.REQUEST_ANSWER, request_id, recipient_key_id)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=UTC)


def default_due(today: date | None = None) -> date:
    return (today or datetime.now(UTC).date()) + timedelta(days=DECISION_DAYS)


def default_grant_end(due: date) -> date:
    return due + timedelta(days=NOTIFICATION_DAYS)


def type_label(doc_type: str) -> str:
    return DOCUMENT_TYPES[doc_type][1] if doc_type in DOCUMENT_TYPES else doc_type


def check_types(types: list[str]) -> list[str]:
    """The requested types, cleaned; an unknown type is refused with the closest known ones."""
    cleaned = sorted({t.strip().lower() for t in types if t.strip()})
    if not cleaned:
        raise VaultError("Say which documents you need (--types), for example id_card,payslip.")
    if len(cleaned) > MAX_TYPES:
        raise VaultError(f"Ask for {MAX_TYPES} document types at most.")
    for doc_type in cleaned:
        if doc_type not in DOCUMENT_TYPES:
            close = difflib.get_close_matches(doc_type, list(DOCUMENT_TYPES), n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise VaultError(
                f"'{doc_type}' is not a document type we know.{hint} "
                "See the list with 'wallet types'. Nothing was sent."
            )
    return cleaned


def _check_text(name: str, value: str) -> str:
    if len(value) > MAX_TEXT:
        raise VaultError(f"The {name} is too long: {MAX_TEXT} characters at most.")
    return value.strip()


@dataclass
class CreatedRequest:
    id: str
    owner: str
    due: date
    safety_code: str
    first_contact: bool


def create_request(
    vault: Vault,
    owner_handle: str,
    *,
    types: list[str],
    purpose: str,
    due: date | None = None,
    message: str = "",
    pins: PinStore,
    accept_new_key: bool = False,
) -> CreatedRequest:
    """The worker asks a person for documents."""
    wanted = check_types(types)
    purpose = _check_text("purpose", purpose)
    if not purpose:
        raise VaultError("Say what the documents are for (--purpose), in a few words.")
    message = _check_text("message", message)
    today = datetime.now(UTC).date()
    due = due or default_due(today)
    if due < today:
        raise VaultError("The due date is in the past. Choose a later date.")
    owner, first = person(vault, owner_handle, pins, accept_new_key)
    request_id = uuid.uuid4().hex
    descriptor = statements.DOCUMENT_REQUEST.build(
        request_id=request_id,
        requester=vault.account["handle"],
        requester_key_id=vault.keys.key_id,
        owner=owner["handle"],
        owner_key_id=owner["key_id"],
        purpose=purpose,
        types=wanted,
        message=message,
        due=due.isoformat(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    signed, signature = sign(vault.keys.signing_key, descriptor)
    vault.api.api(
        "POST",
        "/requests",
        json={
            "request_id": request_id,
            "owner_handle": owner["handle"],
            "owner_key_id": owner["key_id"],
            "sealed_for_owner": b64e(
                seal(
                    b64d(owner["public_encryption_key"]),
                    signed,
                    request_info(request_id, owner["key_id"]),
                )
            ),
            "sealed_for_requester": b64e(
                seal(
                    vault.keys.public_encryption_key,
                    signed,
                    request_info(request_id, vault.keys.key_id),
                )
            ),
            "signature": b64e(signature),
            "due_at": end_of_day(due).isoformat(),
        },
    )
    code = safety_code(b64d(owner["public_encryption_key"]), b64d(owner["public_signing_key"]))
    return CreatedRequest(request_id, owner["handle"], due, code, first)


# --- reading and checking ---------------------------------------------------------------


@dataclass
class OpenedRequest:
    id: str
    direction: str  # incoming (you are asked) or outgoing (you asked)
    status: str
    owner: str
    requester: str
    purpose: str
    types: list[str]
    message: str
    due: date
    created_at: str
    grant_id: str | None
    answer: dict[str, Any] | None
    ignored_types: list[str] = field(default_factory=list)
    requester_keys: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "direction": self.direction,
            "status": self.status,
            "owner": self.owner,
            "requester": self.requester,
            "purpose": self.purpose,
            "types": self.types,
            "message": self.message,
            "due": self.due.isoformat(),
            "created_at": self.created_at,
            "grant_id": self.grant_id,
            "answer": self.answer,
        }


def _served_keys_match(party: dict[str, Any]) -> bool:
    return key_id(b64d(party["public_encryption_key"])) == party["key_id"]


def open_for_me(vault: Vault, info: bytes, sealed: str) -> bytes:
    try:
        return open_sealed(vault.keys.encryption_key, b64d(sealed), info)
    except (UnwrapError, ValueError) as exc:
        raise IntegrityFailure(CHANGED) from exc


def signing_key_of(vault: Vault, party: dict[str, Any], pins: PinStore) -> bytes:
    """My own key for me; for anyone else the key pinned for their handle."""
    if party["handle"] == vault.account["handle"]:
        if party["key_id"] != vault.keys.key_id:
            raise KeyChanged(CHANGED)
        return vault.keys.public_signing_key
    if not _served_keys_match(party):
        raise IntegrityFailure(CHANGED)
    pins.check(party["handle"], party)
    return b64d(party["public_signing_key"])


def open_request(vault: Vault, row: dict[str, Any], pins: PinStore) -> OpenedRequest:
    """Checks the worker's signature and, if answered, the owner's; never trusts the server."""
    me = vault.keys.key_id
    message = open_for_me(vault, request_info(row["id"], me), row["sealed"])
    requester_key = signing_key_of(vault, row["requester"], pins)
    try:
        verify(requester_key, message, b64d(row["signature"]))
    except BadSignature as exc:
        raise IntegrityFailure(CHANGED) from exc
    asked = json.loads(message)
    if (
        asked.get("kind") != statements.DOCUMENT_REQUEST.kind
        or asked.get("request_id") != row["id"]
        or asked.get("requester") != row["requester"]["handle"]
        or asked.get("requester_key_id") != row["requester"]["key_id"]
        or asked.get("owner") != row["owner"]["handle"]
        or asked.get("owner_key_id") != row["owner"]["key_id"]
        or row["due_at"][:10] != asked.get("due")
    ):
        raise IntegrityFailure(CHANGED)
    # Types the catalogue does not know are ignored: they may come from a newer client.
    types = [t for t in asked.get("types", []) if t in DOCUMENT_TYPES]
    ignored = [t for t in asked.get("types", []) if t not in DOCUMENT_TYPES]
    answer = None
    if row.get("answer"):
        answer = _open_answer(vault, row, pins)
    elif row["status"] not in ("open", "closed"):
        raise IntegrityFailure(CHANGED)  # an answered status with no signed answer
    return OpenedRequest(
        id=row["id"],
        direction=row["direction"],
        status=row["status"],
        owner=row["owner"]["handle"],
        requester=row["requester"]["handle"],
        purpose=str(asked.get("purpose", "")),
        types=types,
        message=str(asked.get("message", "")),
        due=date.fromisoformat(asked["due"]),
        created_at=row["created_at"],
        grant_id=row.get("grant_id"),
        answer=answer,
        ignored_types=ignored,
        requester_keys=row["requester"],
    )


def _open_answer(vault: Vault, row: dict[str, Any], pins: PinStore) -> dict[str, Any]:
    message = open_for_me(vault, answer_info(row["id"], vault.keys.key_id), row["answer"])
    owner_key = signing_key_of(vault, row["owner"], pins)
    try:
        verify(owner_key, message, b64d(row["answer_signature"] or ""))
    except BadSignature as exc:
        raise IntegrityFailure(CHANGED) from exc
    answer = json.loads(message)
    status_ok = answer.get("status") == row["status"] or row["status"] == "closed"
    if (
        answer.get("kind") != statements.REQUEST_ANSWER.kind
        or answer.get("request_id") != row["id"]
        or answer.get("grant_id") != row.get("grant_id")
        or not status_ok
    ):
        raise IntegrityFailure(CHANGED)
    return answer


def list_requests(vault: Vault, pins: PinStore) -> list[OpenedRequest]:
    return [open_request(vault, row, pins) for row in vault.api.api("GET", "/requests").json()]


def get_request(vault: Vault, request_id: str, pins: PinStore) -> OpenedRequest:
    return open_request(vault, vault.api.api("GET", f"/requests/{request_id}").json(), pins)


def describe(request: OpenedRequest) -> list[str]:
    """The request in plain words."""
    labels = ", ".join(type_label(t) for t in request.types) or "no document type we know"
    if request.direction == "incoming":
        lines = [f"{request.requester} asks you for: {labels}."]
    else:
        lines = [f"You asked {request.owner} for: {labels}."]
    lines.append(f"What for: {request.purpose}")
    if request.message:
        lines.append(f"Message: {request.message}")
    lines.append(f"Needed by {request.due:%d %B %Y}. Status: {STATUS_WORDS.get(request.status)}.")
    if request.answer:
        given = ", ".join(type_label(t) for t in request.answer.get("given", []))
        refused = ", ".join(type_label(t) for t in request.answer.get("refused", []))
        if given:
            lines.append(f"Given: {given} ({request.answer.get('documents', 0)} document(s)).")
        if refused:
            lines.append(f"Not given: {refused}.")
        if request.answer.get("reason"):
            lines.append(f"Reason: {request.answer['reason']}")
    if request.ignored_types:
        lines.append(f"Unknown types left out: {', '.join(request.ignored_types)}.")
    return lines


# --- the owner answers ------------------------------------------------------------------


def suggest_documents(vault: Vault, request: OpenedRequest) -> list[DocumentInfo]:
    """The owner's documents whose type was asked for (titles and types decrypted here)."""
    wanted = set(request.types)
    return [d for d in vault.list_documents() if d.type in wanted]


def _incoming(vault: Vault, request_id: str, pins: PinStore) -> OpenedRequest:
    request = get_request(vault, request_id, pins)
    if request.direction != "incoming":
        raise VaultError("Only the person who was asked can answer this request.")
    if request.status != "open":
        raise VaultError(
            f"This request is {STATUS_WORDS.get(request.status, request.status)}. "
            "Nothing was changed."
        )
    return request


def _send_answer(
    vault: Vault,
    request: OpenedRequest,
    *,
    status: str,
    grant_id: str | None,
    given: list[str],
    refused: list[str],
    reason: str,
    documents: int,
    grant_expires_at: datetime | None,
) -> None:
    answer = statements.REQUEST_ANSWER.build(
        request_id=request.id,
        owner=vault.account["handle"],
        requester=request.requester,
        status=status,
        grant_id=grant_id,
        given=given,
        refused=refused,
        reason=reason,
        documents=documents,
        grant_expires_at=grant_expires_at.isoformat() if grant_expires_at else None,
        answered_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    signed, signature = sign(vault.keys.signing_key, answer)
    requester = request.requester_keys
    vault.api.api(
        "POST",
        f"/requests/{request.id}/answer",
        json={
            "status": status,
            "grant_id": grant_id,
            "answer_for_owner": b64e(
                seal(
                    vault.keys.public_encryption_key,
                    signed,
                    answer_info(request.id, vault.keys.key_id),
                )
            ),
            "answer_for_requester": b64e(
                seal(
                    b64d(requester["public_encryption_key"]),
                    signed,
                    answer_info(request.id, requester["key_id"]),
                )
            ),
            "answer_signature": b64e(signature),
        },
    )


@dataclass
class Fulfilled:
    request_id: str
    grant_id: str
    status: str
    given: list[str]
    refused: list[str]
    documents: int
    expires_at: datetime


def fulfil(
    vault: Vault,
    request_id: str,
    *,
    document_ids: list[str] | None = None,
    expires: date | None = None,
    reason: str = "",
    refuse_types: list[str] | None = None,
    pins: PinStore,
) -> Fulfilled:
    """One action: a grant for the chosen documents (by default, every document of a type that
    was asked for), until the request is closed or, at the latest, the chosen date (by default
    the due date plus the 8 days of notification); then the signed answer naming the grant."""
    request = _incoming(vault, request_id, pins)
    reason = _check_text("reason", reason)
    said_no = set(refuse_types or [])
    for doc_type in sorted(said_no - set(request.types)):
        raise VaultError(f"'{doc_type}' was not asked for. Nothing was shared.")
    documents = {d.id: d for d in vault.list_documents()}
    if document_ids:
        for document_id in document_ids:
            if document_id not in documents:
                raise VaultError(f"No document {document_id}. Check the id with 'wallet ls'.")
            if documents[document_id].type in said_no:
                raise VaultError(
                    f"You both give and refuse {type_label(documents[document_id].type)}. "
                    "Choose one. Nothing was shared."
                )
        chosen = sorted(set(document_ids))
    else:
        wanted = set(request.types) - said_no
        chosen = sorted(d for d in documents if documents[d].type in wanted)
    if not chosen:
        raise VaultError(
            "You have no document of the types asked for. Add them first, or refuse the "
            "request with 'wallet request refuse'."
        )
    end = expires or default_grant_end(request.due)
    if end < datetime.now(UTC).date():
        raise VaultError("--expires is in the past. Choose a later date.")
    expires_at = end_of_day(end)
    given = sorted({documents[d].type for d in chosen} & set(request.types))
    refused = sorted(set(request.types) - set(given))
    status = "partly_fulfilled" if refused else "fulfilled"
    grant = grantlib.create_grant(
        vault,
        request.requester,
        purpose=request.purpose,  # as the worker wrote it: no English label in front
        document_ids=chosen,
        expires_at=expires_at,
        pins=pins,
    )
    try:
        _send_answer(
            vault,
            request,
            status=status,
            grant_id=grant.id,
            given=given,
            refused=refused,
            reason=reason,
            documents=grant.documents,
            grant_expires_at=expires_at,
        )
    except (ApiError, VaultError):
        # The answer did not go through (the request was closed meanwhile...): no access
        # must stay behind without the answer that explains it.
        grantlib.revoke_grant(vault, grant.id)
        raise
    return Fulfilled(request.id, grant.id, status, given, refused, grant.documents, expires_at)


def refuse(vault: Vault, request_id: str, *, reason: str = "", pins: PinStore) -> None:
    request = _incoming(vault, request_id, pins)
    _send_answer(
        vault,
        request,
        status="refused",
        grant_id=None,
        given=[],
        refused=list(request.types),
        reason=_check_text("reason", reason),
        documents=0,
        grant_expires_at=None,
    )


def close(vault: Vault, request_id: str) -> dict[str, Any]:
    """Done (or withdrawn): the access the request gave ends at once."""
    return vault.api.api("POST", f"/requests/{request_id}/close").json()


def inbox(vault: Vault, pins: PinStore) -> dict[str, Any]:
    """The worker's inbox, every signature checked: grants received (personal and through an
    organisation, checked by the grants client), requests sent with their status, links opened
    in the last 15 minutes."""
    raw = vault.api.api("GET", "/inbox").json()
    grants = [
        {**grant, "via": "organisation" if grant.get("organisation") else "personal"}
        for grant in grantlib.received(vault, pins)
    ]
    return {
        "grants": grants,
        "requests": [open_request(vault, row, pins) for row in raw["requests"]],
        "links": raw["links"],
    }
