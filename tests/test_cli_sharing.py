"""`wallet share`, `wallet grant`, `wallet received` and `wallet journal` as people use them:
each person has their own WALLET_HOME, against a real server over HTTP."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from pathlib import Path

import segno

from tests.conftest import run_cli
from tests.test_cli import PNG_SIGNATURE, assert_plain_failure
from tests.test_grants import write_file
from wallet.client.grants import DOWNLOADED_COPIES
from wallet.protocol.journal_chain import verify_chain


def person(cli_env: dict[str, str], tmp_path: Path, name: str) -> dict[str, str]:
    return {**cli_env, "WALLET_HOME": str(tmp_path / f"home-{name}")}


def owner_and_worker(
    cli_env: dict[str, str], tmp_path: Path
) -> tuple[dict[str, str], str, dict[str, str], str]:
    """Two people with accounts on the live server: (owner env, handle, worker env, handle)."""
    owner = person(cli_env, tmp_path, "owner")
    worker = person(cli_env, tmp_path, "worker")
    owner_handle = f"owner-{secrets.token_hex(4)}"
    worker_handle = f"worker-{secrets.token_hex(4)}"
    run_cli(owner, "account", "create", "--handle", owner_handle)
    run_cli(worker, "account", "create", "--handle", worker_handle)
    return owner, owner_handle, worker, worker_handle


def links(env: dict[str, str]) -> dict[str, dict[str, object]]:
    return {
        str(link["id"]): link for link in json.loads(run_cli(env, "share", "ls", "--json").stdout)
    }


def test_share_link_from_owner_to_someone_without_an_account(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    owner = person(cli_env, tmp_path, "owner")
    worker = person(cli_env, tmp_path, "worker")  # no account, never logs in
    handle = f"owner-{secrets.token_hex(4)}"
    run_cli(owner, "account", "create", "--handle", handle)
    source = write_file(tmp_path / "payslip-march.pdf", "payslip march")
    run_cli(owner, "upload", str(source), "--type", "payslip", "--title", "Payslip March")
    [doc] = json.loads(run_cli(owner, "ls", "--json").stdout)

    qr = tmp_path / "link.png"
    created = run_cli(
        owner, "share", "create", str(doc["id"]), "--pin", "4821", "--purpose", "Rent subsidy",
        "--qr", str(qr),
    )  # fmt: skip
    url = created.stdout.splitlines()[0]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/s/[0-9a-f]{32}#[A-Za-z0-9_-]+", url), url
    assert "can be opened once" in created.stdout
    assert "Give the PIN separately" in created.stdout
    expected_qr = tmp_path / "expected.png"
    segno.make(url, error="m").save(str(expected_qr), scale=10, border=4)
    assert qr.read_bytes().startswith(PNG_SIGNATURE)
    assert qr.read_bytes() == expected_qr.read_bytes()  # the QR code holds exactly the URL
    link_id = url.split("/s/")[1].split("#")[0]

    # Checking shows who and what for, and uses nothing.
    checked = run_cli(worker, "share", "check", url).stdout
    assert f"Shared by {handle}: 1 document(s)." in checked
    assert "Purpose: Rent subsidy" in checked
    assert "You need a PIN to open it." in checked
    run_cli(worker, "share", "check", url)
    assert links(owner)[link_id]["uses_left"] == 1

    # A wrong PIN does not burn the link.
    out = tmp_path / "from-link"
    wrong = run_cli(worker, "share", "open", url, "--pin", "0000", "-o", str(out), check=False)
    assert_plain_failure(wrong, "Wrong PIN")
    assert links(owner)[link_id]["uses_left"] == 1

    opened = run_cli(worker, "share", "open", url, "--pin", "4821", "-o", str(out))
    assert f"Shared by {handle} for: Rent subsidy" in opened.stdout
    assert "1 file(s) written" in opened.stdout
    [written] = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert written.name == "payslip-march.pdf"
    assert written.read_bytes() == source.read_bytes()

    again = run_cli(worker, "share", "open", url, "--pin", "4821", "-o", str(tmp_path / "again"),
                    check=False)  # fmt: skip
    assert_plain_failure(again, "already used")
    assert not (tmp_path / "again").exists() or not any((tmp_path / "again").iterdir())

    listing = run_cli(owner, "share", "ls").stdout
    line = next(line for line in listing.splitlines() if line.startswith(link_id))
    assert "used" in line and "0/1 uses left" in line

    # A second link, stopped before anyone opens it.
    second = run_cli(owner, "share", "create", str(doc["id"]), "--uses", "3").stdout.splitlines()[0]
    second_id = second.split("/s/")[1].split("#")[0]
    stopped = run_cli(owner, "share", "revoke", second_id)
    assert "The link is stopped" in stopped.stdout and DOWNLOADED_COPIES in stopped.stdout
    assert links(owner)[second_id]["state"] == "revoked"
    assert "The person stopped sharing" in run_cli(worker, "share", "check", second).stdout
    refused = run_cli(worker, "share", "open", second, "-o", str(tmp_path / "late"), check=False)
    assert_plain_failure(refused, "stopped sharing")
    # Someone else's link cannot be stopped by a stranger.
    stranger = person(cli_env, tmp_path, "stranger")
    run_cli(stranger, "account", "create", "--handle", f"stranger-{secrets.token_hex(4)}")
    assert_plain_failure(run_cli(stranger, "share", "revoke", link_id, check=False))


def test_standing_grant_from_owner_to_worker(cli_env: dict[str, str], tmp_path: Path) -> None:
    owner, owner_handle, worker, worker_handle = owner_and_worker(cli_env, tmp_path)
    march = write_file(tmp_path / "march.pdf", "payslip march")
    run_cli(owner, "upload", str(march), "--type", "payslip", "--title", "Payslip March")
    run_cli(owner, "upload", str(write_file(tmp_path / "lease.pdf", "lease")), "--type", "lease",
            "--title", "Lease")  # fmt: skip
    documents = {d["title"]: d["id"] for d in json.loads(run_cli(owner, "ls", "--json").stdout)}

    code = run_cli(worker, "account", "safety-code").stdout.strip()
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", code), code
    created = run_cli(owner, "grant", "create", "--to", worker_handle, "--types", "payslip",
                      "--purpose", "Social inquiry").stdout  # fmt: skip
    assert f"Safety code of {worker_handle}: {code}" in created
    assert "First time with this person" in created
    assert f"Access given to {worker_handle}: 1 document(s) now." in created
    grant_id = re.search(r"Grant id: ([0-9a-f]{32})", created).group(1)  # type: ignore[union-attr]

    listing = run_cli(worker, "received", "ls").stdout
    assert f"{grant_id}  from {owner_handle}: Social inquiry" in listing
    assert "Payslip March  [payslip]  v1" in listing
    assert "Lease" not in listing

    out = tmp_path / "got.pdf"
    run_cli(worker, "received", "get", grant_id, documents["Payslip March"], "-o", str(out))
    assert out.read_bytes() == march.read_bytes()
    outside = run_cli(worker, "received", "get", grant_id, documents["Lease"], "-o",
                      str(tmp_path / "lease-out.pdf"), check=False)  # fmt: skip
    assert_plain_failure(outside, "not shared with you")

    # A new payslip reaches the worker by itself.
    run_cli(owner, "upload", str(write_file(tmp_path / "april.pdf", "april")), "--type",
            "payslip", "--title", "Payslip April")  # fmt: skip
    [shared] = json.loads(run_cli(worker, "received", "ls", "--json").stdout)
    assert shared["purpose"] == "Social inquiry" and shared["owner"] == owner_handle
    assert sorted(d["title"] for d in shared["documents"]) == ["Payslip April", "Payslip March"]

    given = run_cli(owner, "grant", "ls").stdout
    assert grant_id in given and "active" in given and worker_handle in given
    revoked = run_cli(owner, "grant", "revoke", grant_id).stdout
    assert "The access is ended" in revoked and DOWNLOADED_COPIES in revoked
    assert json.loads(run_cli(owner, "grant", "ls", "--json").stdout)[0]["state"] == "revoked"

    late = tmp_path / "late.pdf"
    refused = run_cli(worker, "received", "get", grant_id, documents["Payslip March"], "-o",
                      str(late), check=False)  # fmt: skip
    assert_plain_failure(refused, "This access does not exist or has ended")
    assert not late.exists()
    assert "Nobody shares documents with you" in run_cli(worker, "received", "ls").stdout

    # The owner's journal tells it all, in plain words, and checks out.
    journal = run_cli(owner, "journal").stdout
    purpose = "\u201cSocial inquiry\u201d"
    assert f"You gave {worker_handle} access to your documents for {purpose}." in journal
    assert f"{worker_handle} viewed \u201cPayslip March\u201d for {purpose}." in journal
    assert f"You stopped sharing with {worker_handle} for {purpose}." in journal
    assert grant_id[:8] not in journal  # no ids: names and purposes only the owner reads
    verified = run_cli(owner, "journal", "--verify").stdout
    assert re.fullmatch(r"The journal is intact: \d+ entries checked\.\n", verified)
    exported = json.loads(run_cli(owner, "journal", "--json").stdout)
    assert verify_chain(exported) == len(exported)
    rows = list(csv.DictReader(io.StringIO(run_cli(owner, "journal", "--csv").stdout)))
    assert [r["sentence"] for r in rows] == [e["sentence"] for e in exported]
    assert [e["event"] for e in exported].count("grant_download") == 1
    # The worker's journal is the worker's own: nothing of the owner's is in it.
    assert grant_id not in run_cli(worker, "journal", "--csv").stdout


def test_grant_to_a_changed_key_is_refused(
    cli_env: dict[str, str], tmp_path: Path, live_server
) -> None:  # type: ignore[no-untyped-def]
    """The pinned key lives in WALLET_HOME: a later grant to a swapped key stops with a warning."""
    from tests.test_grants import swap_account_keys

    owner = person(cli_env, tmp_path, "owner")
    worker = person(cli_env, tmp_path, "worker")
    worker_handle = f"worker-{secrets.token_hex(4)}"
    run_cli(owner, "account", "create", "--handle", f"owner-{secrets.token_hex(4)}")
    run_cli(worker, "account", "create", "--handle", worker_handle)
    run_cli(owner, "upload", str(write_file(tmp_path / "p.pdf", "p")), "--type", "payslip")
    first = run_cli(owner, "grant", "create", "--to", worker_handle, "--types", "payslip",
                    "--purpose", "first")  # fmt: skip
    assert "First time with this person" in first.stdout

    swap_account_keys(live_server.database.url, worker_handle)
    refused = run_cli(owner, "grant", "create", "--to", worker_handle, "--types", "payslip",
                      "--purpose", "second", check=False)  # fmt: skip
    assert_plain_failure(refused, f"NEW key for {worker_handle}")
    assert len(json.loads(run_cli(owner, "grant", "ls", "--json").stdout)) == 1
    # A new payslip is saved, but its key does not go to the swapped key; the owner is told.
    later = run_cli(owner, "upload", str(write_file(tmp_path / "q.pdf", "q")), "--type",
                    "payslip", "--title", "Later", check=False)  # fmt: skip
    assert_plain_failure(later, f"NEW key for {worker_handle}", "NOT shared")
    assert "Later" in [d["title"] for d in json.loads(run_cli(owner, "ls", "--json").stdout)]
    accepted = run_cli(owner, "grant", "create", "--to", worker_handle, "--types", "payslip",
                       "--purpose", "second", "--accept-new-key")  # fmt: skip
    assert "Safety code of" in accepted.stdout
    assert len(json.loads(run_cli(owner, "grant", "ls", "--json").stdout)) == 2
