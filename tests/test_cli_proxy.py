"""`wallet proxy ...` and `wallet --for OWNER ...` as people use them: the owner and the trusted
person each have their own WALLET_HOME, against a real server over HTTP."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, run_cli
from tests.test_cli import assert_plain_failure
from tests.test_cli_sharing import person
from tests.test_grants import write_file


@pytest.mark.cli_process  # the proxy story as real `python -m wallet.cli` processes
def test_owner_gives_a_mandate_and_the_proxy_acts_inside_it(
    cli_env: dict[str, str], live_server: LiveServer, tmp_path: Path
) -> None:
    owner = person(cli_env, tmp_path, "owner")
    helper = person(cli_env, tmp_path, "helper")
    owner_handle = f"owner-{secrets.token_hex(4)}"
    helper_handle = f"helper-{secrets.token_hex(4)}"
    run_cli(owner, "account", "create", "--handle", owner_handle)
    run_cli(helper, "account", "create", "--handle", helper_handle)
    lease = write_file(tmp_path / "lease.pdf", "lease")
    payslip = write_file(tmp_path / "payslip.pdf", "payslip")
    run_cli(owner, "upload", str(lease), "--type", "lease", "--title", "Lease 2026")
    run_cli(owner, "upload", str(payslip), "--type", "payslip", "--title", "Payslip")
    docs = {d["title"]: d["id"] for d in json.loads(run_cli(owner, "ls", "--json").stdout)}

    # Bad inputs get one plain line each.
    base = ["proxy", "create", "--to", helper_handle, "--purpose", "Housing subsidy renewal"]
    assert_plain_failure(run_cli(owner, *base, "--scope", "housing", check=False), "needs an end")
    assert_plain_failure(
        run_cli(owner, *base, "--scope", "all", "--duration", "1m", check=False),
        "cannot cover everything",
    )
    assert_plain_failure(
        run_cli(owner, *base, "--scope", "housing", "--duration", "forever", check=False),
        "not a duration",
    )
    assert_plain_failure(
        run_cli(owner, *base, "--scope", "flying", "--duration", "1m", check=False),
        "not a procedure category",
    )

    attestation = tmp_path / "mandate.html"
    created = run_cli(
        owner, *base, "--scope", "housing,health", "--actions", "view,upload,share",
        "--duration", "6m", "--attestation", str(attestation),
    ).stdout  # fmt: skip
    mandate_id = re.search(r"Mandate id: ([0-9a-f]{32})", created).group(1)  # type: ignore[union-attr]
    assert f"{helper_handle} may act for {owner_handle}." in created
    assert "1 document(s) are in it now." in created
    page = attestation.read_text()
    assert "<script" not in page and "<svg" in page
    assert "Housing subsidy renewal" in page and helper_handle in page
    check_url = re.search(r'(http://[^<\s"]+/mandates/check/[0-9a-f]{32}\?c=[A-Za-z0-9_-]+)', page)
    assert check_url is not None
    answer = httpx.get(check_url.group(1), headers={"Accept": "application/json"}).json()
    assert answer["valid"] is True and answer["state"] == "active"
    assert owner_handle not in json.dumps(answer) and helper_handle not in json.dumps(answer)

    # The trusted person acts for the owner.
    received = run_cli(helper, "proxy", "received").stdout
    assert mandate_id in received and f"for {owner_handle}" in received
    listed = run_cli(helper, "--for", owner_handle, "ls", "--json").stdout
    assert {d["title"] for d in json.loads(listed)} == {"Lease 2026"}
    out = tmp_path / "lease-copy.pdf"
    run_cli(helper, "--for", owner_handle, "get", docs["Lease 2026"], "-o", str(out))
    assert out.read_bytes() == lease.read_bytes()
    refused = run_cli(helper, "--for", owner_handle, "get", docs["Payslip"], "-o", str(out),
                      check=False)  # fmt: skip
    assert_plain_failure(refused, "not in this mandate")
    receipt = write_file(tmp_path / "receipt.pdf", "rent receipt")
    run_cli(helper, "--for", owner_handle, "upload", str(receipt), "--type", "rent_receipt",
            "--title", "Rent receipt")  # fmt: skip
    outside = run_cli(helper, "--for", owner_handle, "upload", str(receipt), "--type", "payslip",
                      check=False)  # fmt: skip
    assert_plain_failure(outside, "not in this mandate")
    link = run_cli(helper, "--for", owner_handle, "share", "create", docs["Lease 2026"],
                   "--purpose", "Housing office").stdout  # fmt: skip
    url = link.splitlines()[0]
    opened = run_cli(person(cli_env, tmp_path, "office"), "share", "open", url,
                     "-o", str(tmp_path / "office")).stdout  # fmt: skip
    assert f"by {helper_handle} for {owner_handle}" in opened
    # Both are named from the server's records, each with the safety code their wallet shows.
    for who, env in ((helper_handle, helper), (owner_handle, owner)):
        code = run_cli(env, "account", "safety-code").stdout.strip()
        assert f"Safety code of {who}: {code}" in opened

    # The safeguards: no delegation, no passphrase, no journal, no deleting.
    delegate = ["--for", owner_handle, "proxy", "create", "--to", "x", "--purpose", "p"]
    assert_plain_failure(
        run_cli(helper, *delegate, check=False), "A proxy cannot give a proxy. Only the owner can."
    )
    for args in (("account", "passphrase"), ("account", "delete", "--yes"), ("journal",),
                 ("rm", docs["Lease 2026"]), ("share", "ls")):  # fmt: skip
        result = run_cli(helper, "--for", owner_handle, *args, check=False)
        assert_plain_failure(result)
        assert "cannot" in result.stderr or "only" in result.stderr, result.stderr

    # The owner sees it all: the marker, the journal with both names, the banner at login.
    mine = run_cli(owner, "ls").stdout
    assert f"(added by {helper_handle} on your behalf)" in mine
    journal = run_cli(owner, "journal").stdout
    assert f"{helper_handle} viewed \u201cLease 2026\u201d, acting for you" in journal
    assert f"{helper_handle} added \u201cRent receipt\u201d, acting for you" in journal
    login = run_cli(owner, "login", "--handle", owner_handle).stdout
    assert "While you were away" in login  # everything the helper did so far
    assert f"{helper_handle} made a one-time link to share your documents" in login
    login = run_cli(owner, "login", "--handle", owner_handle).stdout
    assert "While you were away" not in login  # nothing new since the previous login
    run_cli(helper, "--for", owner_handle, "ls")
    login = run_cli(owner, "login", "--handle", owner_handle).stdout
    assert "While you were away, 1 thing(s) were done for you under a mandate:" in login
    assert f"{helper_handle} looked at the list of your documents, acting for you" in login

    # The proxy sees its own actions only; renouncing ends the mandate at once.
    actions = run_cli(helper, "proxy", "actions", mandate_id).stdout
    assert "download" in actions and "document added" in actions
    run_cli(helper, "proxy", "renounce", mandate_id)
    ended = run_cli(helper, "--for", owner_handle, "ls", check=False)
    assert_plain_failure(ended, "no active mandate")
    assert re.search(rf"{mandate_id}  renounced", run_cli(owner, "proxy", "ls").stdout)
    answer = httpx.get(check_url.group(1), headers={"Accept": "application/json"}).json()
    assert answer == {"valid": False, "state": "ended", "until": None, "message": answer["message"]}


def test_one_shot_mandate_ends_after_the_first_action(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    owner = person(cli_env, tmp_path, "owner")
    helper = person(cli_env, tmp_path, "helper")
    owner_handle = f"owner-{secrets.token_hex(4)}"
    helper_handle = f"helper-{secrets.token_hex(4)}"
    run_cli(owner, "account", "create", "--handle", owner_handle)
    run_cli(helper, "account", "create", "--handle", helper_handle)
    lease = write_file(tmp_path / "lease.pdf", "lease")
    run_cli(owner, "upload", str(lease), "--type", "lease", "--title", "Lease")
    [doc] = json.loads(run_cli(owner, "ls", "--json").stdout)
    pdf = tmp_path / "mandate.pdf"
    created = run_cli(owner, "proxy", "create", "--to", helper_handle, "--purpose", "One visit",
                      "--scope", "housing", "--duration", "once", "--attestation", str(pdf)).stdout  # fmt: skip
    assert "Once only" in created
    assert "print it" in created.lower() or "Save as PDF" in created
    assert pdf.with_suffix(".html").exists() and not pdf.exists()

    run_cli(helper, "--for", owner_handle, "ls")  # looking does not use it up
    got = run_cli(helper, "--for", owner_handle, "get", str(doc["id"]), "-o",
                  str(tmp_path / "copy.pdf")).stdout  # fmt: skip
    assert "one-shot mandate: it is now used and has ended" in got
    again = run_cli(helper, "--for", owner_handle, "ls", check=False)
    assert_plain_failure(again, "no active mandate")
    assert " used " in run_cli(owner, "proxy", "ls").stdout
