"""The worker's inbox: grants received, requests sent with their status, links redeemed while
logged in (for the 15 minutes their downloads last); and the whole story through the CLI."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from sharing.links.models import LinkDownloadSession
from tests.conftest import WalletApp, run_cli
from tests.test_cli import assert_plain_failure
from tests.test_cli_sharing import owner_and_worker, person
from tests.test_grants import database, make_granted, write_file
from wallet.client import ApiClient
from wallet.client import links as linklib
from wallet.client import requests as requestlib
from wallet.client.contacts import PinStore
from wallet.client.journal import fetch_entries
from wallet.db import utcnow
from wallet.protocol.journal_chain import verify_chain

AUTHZ_COVERED = {"GET /api/v1/inbox"}


def test_inbox_lists_grants_requests_and_links(wallet_app: WalletApp, tmp_path: Path) -> None:
    g = make_granted(wallet_app, tmp_path, purpose="Housing subsidy file")
    pins = PinStore(tmp_path / "inbox-pins.json")
    asked = requestlib.create_request(
        g.worker, g.owner.account["handle"], types=["payslip"], purpose="Social inquiry",
        pins=pins,
    )  # fmt: skip
    other_owner = wallet_app.new_vault()
    refused = requestlib.create_request(
        g.worker, other_owner.account["handle"], types=["lease"], purpose="Rent", pins=pins
    )
    requestlib.refuse(other_owner, refused.id, reason="Not now", pins=PinStore(None))

    # A link the worker opens while logged in; another opened with no account at all.
    link = linklib.create_link(g.owner, [g.payslip_id], uses=2, purpose="Quick look")
    opened = linklib.open_link(link.url, tmp_path / "opened", api=g.worker.api)
    assert len(opened.files) == 1
    anonymous = ApiClient("http://testserver", http=wallet_app.client)
    linklib.open_link(link.url, tmp_path / "anon", api=anonymous)

    box = requestlib.inbox(g.worker, pins)
    [grant] = box["grants"]
    assert grant["id"] == g.grant.id and grant["via"] == "personal"
    assert grant["descriptor"]["purpose"] == "Housing subsidy file"
    assert grant["owner"]["handle"] == g.owner.account["handle"]
    statuses = {r.id: (r.status, r.purpose) for r in box["requests"]}
    assert statuses == {asked.id: ("open", "Social inquiry"), refused.id: ("refused", "Rent")}
    [redeemed] = box["links"]
    assert redeemed["link_id"] == link.id
    assert redeemed["owner_handle"] == g.owner.account["handle"]

    # The owner's journal names the logged-in account that opened the link.
    opens = [e for e in fetch_entries(g.owner) if e["event"] == "link_redeemed"]
    assert [json.loads(str(e["details"])).get("account") for e in opens] == [
        g.worker.account["id"],
        None,
    ]

    # The owner's inbox is about them as a worker: empty; a stranger's too.
    owner_box = requestlib.inbox(g.owner, PinStore(None))
    assert owner_box == {"grants": [], "requests": [], "links": []}

    # After the 15 minutes of downloads, the link leaves the inbox.
    with database(wallet_app.database.url) as db:
        for row in db.exec(
            select(LinkDownloadSession).where(LinkDownloadSession.link_id == link.id)
        ).all():
            row.expires_at = utcnow() - timedelta(seconds=1)
            db.add(row)
        db.commit()
    assert requestlib.inbox(g.worker, pins)["links"] == []


def test_a_link_stays_usable_with_a_stale_session(wallet_app: WalletApp, tmp_path: Path) -> None:
    owner = wallet_app.new_vault()
    doc, _ = owner.upload(write_file(tmp_path / "a.pdf", "a"), "payslip", "Payslip")
    link = linklib.create_link(owner, [doc])
    stale = ApiClient("http://testserver", token="not-a-session", http=wallet_app.client)
    opened = linklib.open_link(link.url, tmp_path / "out", api=stale)
    assert len(opened.files) == 1
    with database(wallet_app.database.url) as db:
        [row] = db.exec(select(LinkDownloadSession)).all()
        assert row.redeemer_id is None


def test_inbox_by_role(wallet_app: WalletApp, tmp_path: Path) -> None:
    g = make_granted(wallet_app, tmp_path)
    http = wallet_app.client
    stranger = wallet_app.new_vault()
    assert http.get("/api/v1/inbox").status_code == 401
    mine = http.get("/api/v1/inbox", headers={"Authorization": f"Bearer {g.worker.api.token}"})
    assert mine.status_code == 200 and [x["id"] for x in mine.json()["grants"]] == [g.grant.id]
    theirs = http.get("/api/v1/inbox", headers={"Authorization": f"Bearer {stranger.api.token}"})
    assert theirs.status_code == 200
    assert theirs.json() == {"grants": [], "organisation_grants": [], "requests": [], "links": []}


def test_request_note_and_inbox_story_through_the_cli(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    owner, owner_handle, worker, worker_handle = owner_and_worker(cli_env, tmp_path)
    for name, doc_type, title in [("id", "id_card", "ID card"), ("pay", "payslip", "Payslip"),
                                  ("cv", "cv", "CV")]:  # fmt: skip
        path = write_file(tmp_path / f"{name}.pdf", name)
        run_cli(owner, "upload", str(path), "--type", doc_type, "--title", title)
    docs = {d["title"]: d["id"] for d in json.loads(run_cli(owner, "ls", "--json").stdout)}

    # A type not in the catalogue: one plain line, nothing sent.
    bad = run_cli(worker, "request", "create", "--to", owner_handle, "--types", "id_card,payslp",
                  "--purpose", "Social inquiry", check=False)  # fmt: skip
    assert_plain_failure(bad, "'payslp' is not a document type we know", "payslip")

    sent = run_cli(worker, "request", "create", "--to", owner_handle,
                   "--types", "id_card,payslip,bank_statement", "--purpose", "Social inquiry",
                   "--due", "2026-12-30").stdout  # fmt: skip
    assert f"Request sent to {owner_handle}, needed by 30 December 2026." in sent
    request_id = sent.split("Request id: ")[1].split()[0]

    shown = run_cli(owner, "request", "show", request_id).stdout
    assert f"{worker_handle} asks you for: Bank statement, Identity card, Payslip" in shown
    assert "What for: Social inquiry" in shown and "Needed by 30 December 2026." in shown
    assert docs["ID card"] in shown and docs["Payslip"] in shown and docs["CV"] not in shown

    # Without --docs the owner is asked to confirm; no answer gives nothing.
    declined = run_cli(owner, "request", "fulfil", request_id, check=False)
    assert declined.returncode != 0 and "Give them? [y/N]" in declined.stdout
    assert "Nobody shares" in run_cli(worker, "received", "ls").stdout
    given = run_cli(owner, "request", "fulfil", request_id, "--docs", docs["ID card"],
                    "--reason", "Payslip next week").stdout  # fmt: skip
    assert "Given: 1 document(s), until 07 January 2027" in given
    assert "Not given: Bank statement, Payslip or salary certificate." in given
    grant_id = given.split("Grant id: ")[1].split()[0]

    outgoing = run_cli(worker, "request", "ls").stdout
    assert f"to {owner_handle}  answered: part was given" in outgoing
    assert "Reason: Payslip next week" in outgoing
    box = run_cli(worker, "inbox").stdout
    assert f"{grant_id}  from {owner_handle}: Social inquiry  1 document(s)" in box
    assert f"{request_id}  to {owner_handle}: Social inquiry  answered: part was given" in box
    received = json.loads(run_cli(worker, "received", "ls", "--json").stdout)
    assert [d["title"] for d in received[0]["documents"]] == ["ID card"]

    # Notes: the worker under the grant, the owner on their own; then the export.
    run_cli(worker, "note", "add", "--grant", grant_id, "--text", "Interview at the office",
            "--persons", f"{owner_handle},{worker_handle}", "--actions", "Payslip by Friday",
            "--date", "2026-11-23")  # fmt: skip
    run_cli(owner, "note", "add", "--text", "They asked again for my payslip")
    notes = run_cli(owner, "note", "ls").stdout
    assert "Said: Interview at the office" in notes and "Decided: Payslip by Friday" in notes
    assert f"by {worker_handle} about {owner_handle}" in notes
    export = tmp_path / "appeal"
    written = run_cli(owner, "note", "export", str(export)).stdout
    assert "Wrote 2 note(s)" in written and "README.txt" in written
    journal = json.loads((export / "journal.json").read_text())
    verify_chain(journal)
    events = [e["event"] for e in journal]
    for event in ("request_received", "grant_created", "request_answered", "note_added"):
        assert event in events, event

    # The worker is done: the access ends at once; the journal says who closed it.
    closed = run_cli(worker, "request", "close", request_id).stdout
    assert "The access it gave has ended." in closed
    assert "Nobody shares documents with you right now." in run_cli(worker, "received", "ls").stdout
    box = run_cli(worker, "inbox").stdout
    assert f"{request_id}  to {owner_handle}: Social inquiry  closed" in box
    assert "Given to you:\n    nothing right now" in box
    sentences = run_cli(owner, "journal").stdout
    assert (
        f"{worker_handle} closed the request for \u201cSocial inquiry\u201d. The access you gave "
        "for it has ended." in sentences
    )
    assert f"{worker_handle} wrote a contact note in your file" in sentences

    # Someone else's request: the same plain failure as an unknown id.
    stranger = person(cli_env, tmp_path, "stranger")
    run_cli(stranger, "account", "create", "--handle", f"stranger-{secrets.token_hex(4)}")
    theirs = assert_plain_failure(run_cli(stranger, "request", "show", request_id, check=False))
    unknown = assert_plain_failure(
        run_cli(stranger, "request", "show", secrets.token_hex(16), check=False)
    )
    assert theirs == unknown


def test_the_web_apps_session_cookie_names_the_opener(
    wallet_app: WalletApp, tmp_path: Path
) -> None:
    """The browser sends its HttpOnly cookie, not a Bearer header: it counts the same."""
    g = make_granted(wallet_app, tmp_path)
    link = linklib.create_link(g.owner, [g.payslip_id])
    http = wallet_app.client
    http.cookies.set("wallet_session", str(g.worker.api.token))
    http.headers["Sec-Fetch-Site"] = "same-origin"  # what the browser sends from the link page
    try:
        linklib.open_link(
            link.url, tmp_path / "opened", api=ApiClient("http://testserver", http=http)
        )
    finally:
        http.cookies.clear()
        del http.headers["Sec-Fetch-Site"]
    with database(wallet_app.database.url) as db:
        [row] = db.exec(select(LinkDownloadSession)).all()
        assert row.redeemer_id == g.worker.account["id"]
