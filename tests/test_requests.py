"""Document requests: a worker asks for document types with a purpose and a due date, the
owner answers in one step with a scoped grant or a refusal, and closing ends the access at
once. Purpose, types, message and reason are sealed; signatures are checked by each side."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from sharing.grants.models import Grant
from sharing.requests.models import DocumentRequest
from tests.conftest import WalletApp
from tests.test_grants import database, get, unknown_id, write_file
from tests.test_zero_knowledge import blob_contents, database_contents, hits
from wallet.client import Vault
from wallet.client import requests as requestlib
from wallet.client.api import ApiError
from wallet.client.contacts import PinStore
from wallet.client.grants import received, received_documents
from wallet.client.journal import fetch_entries, render, verify
from wallet.client.vault import IntegrityFailure, VaultError
from wallet.crypto.encoding import b64e

AUTHZ_COVERED = {
    "POST /api/v1/requests",
    "GET /api/v1/requests",
    "GET /api/v1/requests/{request_id}",
    "POST /api/v1/requests/{request_id}/answer",
    "POST /api/v1/requests/{request_id}/close",
}


@dataclass
class Asked:
    app: WalletApp
    owner: Vault
    worker: Vault
    request_id: str
    payslip_id: str
    id_card_id: str
    bank_id: str
    lease_id: str
    owner_pins: PinStore
    worker_pins: PinStore
    tmp: Path

    def owner_view(self) -> requestlib.OpenedRequest:
        return requestlib.get_request(self.owner, self.request_id, self.owner_pins)

    def worker_view(self) -> requestlib.OpenedRequest:
        return requestlib.get_request(self.worker, self.request_id, self.worker_pins)


def make_asked(
    app: WalletApp,
    tmp: Path,
    purpose: str = "Social inquiry",
    types: tuple[str, ...] = ("id_card", "payslip", "bank_statement", "lease"),
    message: str = "Bring what you have.",
    due: date | None = None,
) -> Asked:
    owner = app.new_vault()
    worker = app.new_vault()
    payslip_id, _ = owner.upload(write_file(tmp / "payslip.pdf", "payslip"), "payslip", "Payslip")
    id_card_id, _ = owner.upload(write_file(tmp / "id.pdf", "id card"), "id_card", "ID card")
    bank_id, _ = owner.upload(write_file(tmp / "bank.pdf", "bank"), "bank_statement", "Bank May")
    lease_id, _ = owner.upload(write_file(tmp / "lease.pdf", "lease"), "lease", "Lease")
    worker_pins = PinStore(tmp / f"worker-pins-{secrets.token_hex(3)}.json")
    created = requestlib.create_request(
        worker,
        owner.account["handle"],
        types=list(types),
        purpose=purpose,
        message=message,
        due=due,
        pins=worker_pins,
    )
    assert created.first_contact
    return Asked(
        app,
        owner,
        worker,
        created.id,
        payslip_id,
        id_card_id,
        bank_id,
        lease_id,
        PinStore(tmp / f"owner-pins-{secrets.token_hex(3)}.json"),
        worker_pins,
        tmp,
    )


@pytest.fixture
def asked(wallet_app: WalletApp, tmp_path: Path) -> Asked:
    return make_asked(wallet_app, tmp_path)


def events(vault: Vault) -> list[dict[str, object]]:
    entries = fetch_entries(vault)
    assert verify(entries)[0]
    return entries


# --- the request, in plain words, on both sides --------------------------------------------


def test_owner_sees_the_request_in_plain_words_and_the_worker_its_status(asked: Asked) -> None:
    a = asked
    [incoming] = requestlib.list_requests(a.owner, a.owner_pins)
    assert incoming.direction == "incoming" and incoming.status == "open"
    assert incoming.requester == a.worker.account["handle"]
    assert incoming.purpose == "Social inquiry"
    assert incoming.types == ["bank_statement", "id_card", "lease", "payslip"]
    assert incoming.message == "Bring what you have."
    words = "\n".join(requestlib.describe(incoming))
    assert f"{a.worker.account['handle']} asks you for:" in words
    for label in ("Identity card", "Payslip or salary certificate", "Bank statement", "Lease"):
        assert label in words
    assert "What for: Social inquiry" in words and "waiting for an answer" in words

    [outgoing] = requestlib.list_requests(a.worker, a.worker_pins)
    assert outgoing.direction == "outgoing" and outgoing.owner == a.owner.account["handle"]
    assert outgoing.purpose == "Social inquiry"
    assert f"You asked {a.owner.account['handle']} for:" in "\n".join(requestlib.describe(outgoing))

    # The owner's journal says who asked, by account id, never what.
    [entry] = [e for e in events(a.owner) if e["event"] == "request_received"]
    assert entry["actor_id"] == a.worker.account["id"] and entry["subject_id"] == a.request_id
    assert "Social" not in json.dumps(entry)
    sentences = [r["sentence"] for r in render(a.owner, fetch_entries(a.owner))]
    assert f"{a.worker.account['handle']} asked you for documents" in " ".join(sentences)


def test_defaults_follow_the_social_inquiry_rhythm(asked: Asked) -> None:
    a = asked
    today = datetime.now(UTC).date()
    view = a.owner_view()
    assert view.due == today + timedelta(days=30)
    with database(a.app.database.url) as db:
        row = db.get(DocumentRequest, a.request_id)
        assert row is not None and row.due_at.date() == view.due

    done = requestlib.fulfil(a.owner, a.request_id, pins=a.owner_pins)
    # The grant ends 8 days after the due date: the time to notify the decision.
    assert done.expires_at.date() == today + timedelta(days=38)
    with database(a.app.database.url) as db:
        grant = db.get(Grant, done.grant_id)
        assert grant is not None and grant.expires_at is not None
        assert grant.expires_at.date() == today + timedelta(days=38)


# --- the owner answers in one step ---------------------------------------------------------


def test_fulfil_gives_a_grant_for_the_chosen_documents(asked: Asked) -> None:
    a = asked
    suggested = {d.id for d in requestlib.suggest_documents(a.owner, a.owner_view())}
    assert suggested == {a.payslip_id, a.id_card_id, a.bank_id, a.lease_id}
    extra, _ = a.owner.upload(write_file(a.tmp / "energy.pdf", "energy"), "energy_bill", "Energy")
    assert extra not in {d.id for d in requestlib.suggest_documents(a.owner, a.owner_view())}

    done = requestlib.fulfil(
        a.owner,
        a.request_id,
        document_ids=[a.payslip_id, a.id_card_id],
        expires=datetime.now(UTC).date() + timedelta(days=60),
        reason="My bank statement and lease follow next week.",
        pins=a.owner_pins,
    )
    assert done.status == "partly_fulfilled"
    assert done.given == ["id_card", "payslip"]
    assert done.refused == ["bank_statement", "lease"]
    assert done.expires_at.date() == datetime.now(UTC).date() + timedelta(days=60)

    # The worker reads exactly the chosen documents through the usual grant.
    [grant] = received(a.worker, a.worker_pins)
    assert grant["id"] == done.grant_id
    assert grant["descriptor"]["purpose"] == "Social inquiry"
    docs = received_documents(a.worker, done.grant_id, a.owner.keys.public_signing_key)
    assert {d.document_id for d in docs} == {a.payslip_id, a.id_card_id}

    # The worker sees the status and the signed answer, in plain words.
    view = a.worker_view()
    assert view.status == "partly_fulfilled" and view.grant_id == done.grant_id
    assert view.answer is not None
    assert view.answer["reason"] == "My bank statement and lease follow next week."
    words = "\n".join(requestlib.describe(view))
    assert "Given: Identity card, Payslip or salary certificate (2 document(s))." in words
    assert "Not given: Bank statement, Lease." in words
    assert "Reason: My bank statement and lease follow next week." in words

    [answered] = [e for e in events(a.owner) if e["event"] == "request_answered"]
    assert json.loads(str(answered["details"])) == {
        "grant": done.grant_id,
        "status": "partly_fulfilled",
    }
    # Answering twice is refused and changes nothing.
    with pytest.raises(VaultError, match="answered: part was given"):
        requestlib.refuse(a.owner, a.request_id, pins=a.owner_pins)
    with pytest.raises(ApiError) as caught:
        a.owner.api.api(
            "POST",
            f"/requests/{a.request_id}/answer",
            json={
                "status": "refused",
                "answer_for_owner": b64e(b"x"),
                "answer_for_requester": b64e(b"x"),
                "answer_signature": b64e(bytes(64)),
            },
        )
    assert caught.value.status == 409
    assert a.worker_view().status == "partly_fulfilled"


def test_fulfil_with_every_type_is_fulfilled(asked: Asked) -> None:
    done = requestlib.fulfil(asked.owner, asked.request_id, pins=asked.owner_pins)
    assert done.status == "fulfilled" and done.refused == [] and done.documents == 4
    assert asked.worker_view().status == "fulfilled"


def test_refuse_part_of_a_request_and_give_the_rest(asked: Asked) -> None:
    a = asked
    done = requestlib.fulfil(
        a.owner, a.request_id, refuse_types=["bank_statement"], reason="Private.",
        pins=a.owner_pins,
    )  # fmt: skip
    assert done.given == ["id_card", "lease", "payslip"] and done.refused == ["bank_statement"]
    docs = received_documents(a.worker, done.grant_id, a.owner.keys.public_signing_key)
    assert a.bank_id not in {d.document_id for d in docs} and len(docs) == 3
    view = a.worker_view()
    assert view.answer is not None and view.answer["refused"] == ["bank_statement"]
    assert "Not given: Bank statement." in requestlib.describe(view)


def test_refusing_a_type_you_give_or_that_was_not_asked_is_an_error(asked: Asked) -> None:
    a = asked
    with pytest.raises(VaultError, match="both give and refuse Bank statement"):
        requestlib.fulfil(
            a.owner, a.request_id, document_ids=[a.bank_id], refuse_types=["bank_statement"],
            pins=a.owner_pins,
        )  # fmt: skip
    with pytest.raises(VaultError, match="'diploma' was not asked for"):
        requestlib.fulfil(a.owner, a.request_id, refuse_types=["diploma"], pins=a.owner_pins)
    assert a.worker_view().status == "open"
    with database(a.app.database.url) as db:
        assert db.exec(select(Grant)).all() == []


def test_the_owner_ignores_types_it_does_not_know(
    wallet_app: WalletApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer worker's client may ask for a type this client does not know yet."""
    monkeypatch.setattr(requestlib, "check_types", lambda types: sorted(types))
    a = make_asked(wallet_app, tmp_path, types=("payslip", "future_type"))
    view = a.owner_view()
    assert view.types == ["payslip"] and view.ignored_types == ["future_type"]
    assert "Unknown types left out: future_type." in requestlib.describe(view)
    done = requestlib.fulfil(a.owner, a.request_id, pins=a.owner_pins)
    assert done.status == "fulfilled" and done.given == ["payslip"]


def test_refuse_all_with_a_reason(asked: Asked) -> None:
    a = asked
    requestlib.refuse(
        a.owner, a.request_id, reason="I will bring them in person.", pins=a.owner_pins
    )
    view = a.worker_view()
    assert view.status == "refused" and view.grant_id is None
    assert view.answer is not None and view.answer["refused"] == view.types
    assert "Reason: I will bring them in person." in requestlib.describe(view)
    assert received(a.worker, a.worker_pins) == []


def test_close_ends_the_grant_at_once(asked: Asked) -> None:
    a = asked
    done = requestlib.fulfil(a.owner, a.request_id, pins=a.owner_pins)
    http = a.app.client
    path = f"/api/v1/received/{done.grant_id}/documents"
    assert get(http, path, a.worker.api.token).status_code == 200

    closed = requestlib.close(a.worker, a.request_id)  # the worker says it is done
    assert closed["status"] == "closed"

    gone = get(http, path, a.worker.api.token)
    never = get(http, f"/api/v1/received/{unknown_id()}/documents", a.worker.api.token)
    assert gone.status_code == never.status_code == 404 and gone.json() == never.json()
    assert received(a.worker, a.worker_pins) == []
    with database(a.app.database.url) as db:
        grant = db.get(Grant, done.grant_id)
        assert grant is not None and grant.revoked_at is not None
    journal = events(a.owner)
    [closing] = [e for e in journal if e["event"] == "request_closed"]
    assert closing["actor_kind"] == "account" and closing["actor_id"] == a.worker.account["id"]
    assert any(e["event"] == "grant_revoked" and e["subject_id"] == done.grant_id for e in journal)
    # The answer stays readable; closing twice is harmless.
    view = a.worker_view()
    assert view.status == "closed" and view.answer is not None
    assert requestlib.close(a.owner, a.request_id)["status"] == "closed"
    # A closed request cannot be answered.
    with pytest.raises(VaultError, match="closed"):
        requestlib.fulfil(a.owner, a.request_id, pins=a.owner_pins)


def test_owner_closes_an_unanswered_request(asked: Asked) -> None:
    assert requestlib.close(asked.owner, asked.request_id)["status"] == "closed"
    assert asked.worker_view().status == "closed"


def test_a_failed_answer_leaves_no_access_behind(
    asked: Asked, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker withdraws the request while the owner's client is answering: the grant the
    client just created is ended, so no access stays behind without its answer."""
    a = asked
    seen_open = a.owner_view()
    requestlib.close(a.worker, a.request_id)
    monkeypatch.setattr(requestlib, "_incoming", lambda *args, **kwargs: seen_open)
    with pytest.raises(ApiError) as caught:
        requestlib.fulfil(a.owner, a.request_id, pins=a.owner_pins)
    assert caught.value.status == 409 and "already answered or closed" in caught.value.message
    with database(a.app.database.url) as db:
        [grant] = db.exec(select(Grant)).all()
        assert grant.revoked_at is not None
    assert received(a.worker, a.worker_pins) == []
    assert a.worker_view().status == "closed"


# --- bad inputs ----------------------------------------------------------------------------


def test_a_type_not_in_the_catalogue_gets_a_clear_error(wallet_app: WalletApp) -> None:
    owner = wallet_app.new_vault()
    worker = wallet_app.new_vault()
    pins = PinStore(None)
    with pytest.raises(VaultError) as caught:
        requestlib.create_request(
            worker, owner.account["handle"], types=["id_card", "payslips"], purpose="x", pins=pins
        )
    message = str(caught.value)
    assert "'payslips' is not a document type we know" in message
    assert "Did you mean: payslip" in message and "wallet types" in message
    with pytest.raises(VaultError, match="not a document type we know. See the list"):
        requestlib.create_request(
            worker, owner.account["handle"], types=["zzzz"], purpose="x", pins=pins
        )
    with pytest.raises(VaultError, match="Say which documents"):
        requestlib.create_request(worker, owner.account["handle"], types=[], purpose="x", pins=pins)
    with pytest.raises(VaultError, match="Say what the documents are for"):
        requestlib.create_request(
            worker, owner.account["handle"], types=["lease"], purpose=" ", pins=pins
        )
    with pytest.raises(VaultError, match="in the past"):
        requestlib.create_request(
            worker, owner.account["handle"], types=["lease"], purpose="x",
            due=date(2020, 1, 1), pins=pins,
        )  # fmt: skip
    with pytest.raises(ApiError) as unknown:
        requestlib.create_request(
            worker, f"nobody-{secrets.token_hex(4)}", types=["lease"], purpose="x", pins=pins
        )
    assert unknown.value.status == 404 and "nobody with this handle" in unknown.value.message
    assert requestlib.list_requests(owner, pins) == []  # nothing was sent


def test_server_refuses_bad_dates_and_asking_yourself(wallet_app: WalletApp) -> None:
    owner = wallet_app.new_vault()
    body = {
        "request_id": unknown_id(),
        "owner_handle": owner.account["handle"],
        "owner_key_id": owner.keys.key_id,
        "sealed_for_owner": b64e(b"sealed"),
        "sealed_for_requester": b64e(b"sealed"),
        "signature": b64e(bytes(64)),
        "due_at": "2020-01-01T00:00:00Z",
    }
    worker = wallet_app.new_vault()
    for due, expected in [
        ("2020-01-01T00:00:00Z", "in the past"),
        ("2099-01-01T00:00:00Z", "more than a year"),
        ("2099-01-01T00:00:00", "time zone"),
    ]:
        with pytest.raises(ApiError) as caught:
            worker.api.api("POST", "/requests", json={**body, "due_at": due})
        assert caught.value.status == 422 and expected in caught.value.message
    with pytest.raises(ApiError) as caught:
        owner.api.api(
            "POST",
            "/requests",
            json={**body, "due_at": (datetime.now(UTC) + timedelta(days=3)).isoformat()},
        )
    assert caught.value.status == 422 and "yourself" in caught.value.message


def test_fulfil_without_matching_documents_says_what_to_do(wallet_app, tmp_path) -> None:
    a = make_asked(wallet_app, tmp_path, types=("diploma",))
    with pytest.raises(VaultError, match="no document of the types asked for"):
        requestlib.fulfil(a.owner, a.request_id, pins=a.owner_pins)
    assert a.worker_view().status == "open"
    with database(wallet_app.database.url) as db:
        assert db.exec(select(Grant)).all() == []


# --- no existence leaks, signatures --------------------------------------------------------


def test_someone_elses_request_answers_like_an_unknown_one(asked: Asked) -> None:
    a = asked
    stranger = a.app.new_vault()
    http = a.app.client
    token = stranger.api.token
    answer = {
        "status": "refused",
        "answer_for_owner": b64e(b"x"),
        "answer_for_requester": b64e(b"x"),
        "answer_signature": b64e(bytes(64)),
    }
    for method, suffix, body in [
        ("GET", "", None),
        ("POST", "/answer", answer),
        ("POST", "/close", None),
    ]:
        real = http.request(method, f"/api/v1/requests/{a.request_id}{suffix}",
                            headers={"Authorization": f"Bearer {token}"}, json=body)  # fmt: skip
        fake = http.request(method, f"/api/v1/requests/{unknown_id()}{suffix}",
                            headers={"Authorization": f"Bearer {token}"}, json=body)  # fmt: skip
        assert real.status_code == fake.status_code == 404, (suffix, real.text)
        assert real.json() == fake.json()
    # The worker cannot answer their own request either.
    real = http.post(f"/api/v1/requests/{a.request_id}/answer", json=answer,
                     headers={"Authorization": f"Bearer {a.worker.api.token}"})  # fmt: skip
    assert real.status_code == 404
    assert requestlib.list_requests(stranger, PinStore(None)) == []
    assert a.worker_view().status == "open"


def test_tampered_request_or_answer_is_caught_by_the_client(asked: Asked) -> None:
    a = asked
    url = a.app.database.url
    with database(url) as db:
        row = db.get(DocumentRequest, a.request_id)
        assert row is not None
        good = row.signature
        row.signature = bytes([good[0] ^ 1]) + good[1:]
        db.add(row)
        db.commit()
    with pytest.raises(IntegrityFailure, match="changed on the server"):
        requestlib.list_requests(a.owner, a.owner_pins)
    with database(url) as db:
        row = db.get(DocumentRequest, a.request_id)
        assert row is not None
        row.signature = good
        # A server moving the due date earlier is caught too.
        row.due_at = row.due_at - timedelta(days=5)
        db.add(row)
        db.commit()
    with pytest.raises(IntegrityFailure):
        a.owner_view()
    with database(url) as db:
        row = db.get(DocumentRequest, a.request_id)
        assert row is not None
        row.due_at = row.due_at + timedelta(days=5)
        db.add(row)
        db.commit()
    requestlib.refuse(a.owner, a.request_id, reason="no", pins=a.owner_pins)
    with database(url) as db:
        row = db.get(DocumentRequest, a.request_id)
        assert row is not None and row.answer_signature is not None
        # A server turning a refusal into "fulfilled" is caught by the worker.
        row.status = "fulfilled"
        db.add(row)
        db.commit()
    with pytest.raises(IntegrityFailure):
        a.worker_view()
    with database(url) as db:
        row = db.get(DocumentRequest, a.request_id)
        assert row is not None and row.answer_signature is not None
        row.status = "refused"
        row.answer_signature = bytes(64)
        db.add(row)
        db.commit()
    with pytest.raises(IntegrityFailure):
        a.worker_view()


def test_a_swapped_worker_key_is_caught_by_the_owner(asked: Asked) -> None:
    from tests.test_grants import swap_account_keys

    a = asked
    a.owner_view()  # pins the worker's key
    swap_account_keys(a.app.database.url, a.worker.account["handle"])
    with pytest.raises(IntegrityFailure):
        a.owner_view()


def test_server_learns_no_purpose_type_message_or_reason(wallet_app, tmp_path) -> None:
    canary = "CANARY-" + secrets.token_hex(12)
    a = make_asked(
        wallet_app, tmp_path, purpose=f"Purpose {canary}", types=("payslip", "diploma"),
        message=f"Message {canary}",
    )  # fmt: skip
    requestlib.fulfil(a.owner, a.request_id, reason=f"Reason {canary}", pins=a.owner_pins)
    view = a.worker_view()
    assert view.purpose.endswith(canary) and view.answer and view.answer["reason"].endswith(canary)
    stored = database_contents(wallet_app, tmp_path) + blob_contents(wallet_app)
    assert hits(stored, a.worker.account["handle"]), "positive control: handles are in clear"
    assert hits(stored, canary) == []
    # The requested types never appear in clear either (the catalogue names are plain words).
    assert hits(stored, "diploma") == []


# --- authorization: rightful caller, unrelated account, no session -------------------------


def test_every_request_endpoint_by_role(asked: Asked) -> None:
    a = asked
    http = a.app.client
    stranger = a.app.new_vault()

    def call(token: str | None, method: str, path: str, body: object = None):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return http.request(method, f"/api/v1{path}", headers=headers, json=body)

    create_body = {
        "request_id": unknown_id(),
        "owner_handle": a.owner.account["handle"],
        "owner_key_id": a.owner.keys.key_id,
        "sealed_for_owner": b64e(b"sealed"),
        "sealed_for_requester": b64e(b"sealed"),
        "signature": b64e(bytes(64)),
        "due_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    }
    answer = {
        "status": "refused",
        "answer_for_owner": b64e(b"x"),
        "answer_for_requester": b64e(b"x"),
        "answer_signature": b64e(bytes(64)),
    }
    rid = a.request_id
    # No session: 401 everywhere.
    for method, path, body in [
        ("POST", "/requests", create_body),
        ("GET", "/requests", None),
        ("GET", f"/requests/{rid}", None),
        ("POST", f"/requests/{rid}/answer", answer),
        ("POST", f"/requests/{rid}/close", None),
    ]:
        assert call(None, method, path, body).status_code == 401, path
    # Rightful callers.
    assert call(a.worker.api.token, "POST", "/requests", create_body).status_code == 201
    assert [r["id"] for r in call(stranger.api.token, "GET", "/requests").json()] == []
    assert len(call(a.owner.api.token, "GET", "/requests").json()) == 2
    assert call(a.worker.api.token, "GET", f"/requests/{rid}").status_code == 200
    assert call(a.owner.api.token, "GET", f"/requests/{rid}").status_code == 200
    # Unrelated account: the same 404 as an unknown id.
    for method, suffix, body in [("GET", "", None), ("POST", "/answer", answer),
                                 ("POST", "/close", None)]:  # fmt: skip
        real = call(stranger.api.token, method, f"/requests/{rid}{suffix}", body)
        fake = call(stranger.api.token, method, f"/requests/{unknown_id()}{suffix}", body)
        assert real.status_code == fake.status_code == 404 and real.json() == fake.json()
    assert call(a.owner.api.token, "POST", f"/requests/{rid}/answer", answer).status_code == 200
    assert call(a.worker.api.token, "POST", f"/requests/{rid}/close").status_code == 200
