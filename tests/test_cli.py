"""The `wallet` command as a person uses it, against a real server over HTTP."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import pytest
import segno

from tests.conftest import TEST_PASSPHRASE, run_cli
from wallet.crypto.recovery import parse_recovery_key

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def new_handle() -> str:
    return f"cli-{secrets.token_hex(6)}"


def assert_plain_failure(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """A failure: non-zero exit, one plain line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout + result.stderr
    message = result.stderr.strip()
    assert message, "a failure must say what went wrong"
    assert len(message.splitlines()) == 1, message
    assert "Traceback" not in result.stderr + result.stdout
    for text in expected:
        assert text in message, message
    return message


def recovery_key_from(stdout: str) -> str:
    lines = [line.strip() for line in stdout.splitlines() if line.strip().startswith("WR1-")]
    assert len(lines) == 1, stdout
    return lines[0]


def listed(env: dict[str, str]) -> list[dict[str, object]]:
    return json.loads(run_cli(env, "ls", "--json").stdout)


@pytest.mark.cli_process  # one whole story as real `python -m wallet.cli` processes
def test_cli_full_story(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = cli_env
    handle = new_handle()
    qr = tmp_path / "rk.png"

    # Create: the recovery key is printed exactly once, and written as a QR code.
    created = run_cli(env, "account", "create", "--handle", handle, "--recovery-qr", str(qr))
    recovery_text = recovery_key_from(created.stdout)
    assert len(parse_recovery_key(recovery_text)) == 32
    assert created.stdout.count(recovery_text) == 1
    png = qr.read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    expected_qr = tmp_path / "expected.png"
    segno.make(recovery_text, error="m").save(str(expected_qr), scale=8, border=4)
    assert png == expected_qr.read_bytes()  # the QR code holds exactly the printed key

    # Upload a payslip with its details.
    march = tmp_path / "payslip-march.pdf"
    march.write_bytes(b"%PDF-1.4 March payslip " + secrets.token_bytes(3000))
    uploaded = run_cli(
        env,
        "upload",
        str(march),
        "--type",
        "payslip",
        "--title",
        "Payslip March",
        "--expires",
        "2027-03-31",
    )
    documents = listed(env)
    assert len(documents) == 1
    doc = documents[0]
    document_id = str(doc["id"])
    assert document_id in uploaded.stdout
    assert doc["title"] == "Payslip March"
    assert doc["type"] == "payslip"
    assert doc["expiry_date"] == "2027-03-31"
    assert doc["file_name"] == "payslip-march.pdf"
    assert doc["versions"] == 1 and doc["version"] == 1
    assert int(doc["size"]) > march.stat().st_size  # the stored size is the age ciphertext

    table = run_cli(env, "ls").stdout
    line = next(line for line in table.splitlines() if line.startswith(document_id))
    assert "Payslip March" in line
    assert "[payslip]" in line
    assert "v1 of 1" in line
    assert "expires 2027-03-31" in line
    assert " KB" in line

    # Download: identical bytes.
    out = tmp_path / "out.pdf"
    run_cli(env, "get", document_id, "-o", str(out))
    assert out.read_bytes() == march.read_bytes()

    # A new version; the old one stays readable.
    corrected = tmp_path / "payslip-march-corrected.pdf"
    corrected.write_bytes(b"%PDF-1.4 corrected " + secrets.token_bytes(2000))
    replaced = run_cli(
        env, "upload", str(corrected), "--type", "payslip", "--title", "Payslip March",
        "--replace", document_id,
    )  # fmt: skip
    assert "version 2" in replaced.stdout
    (doc,) = listed(env)
    assert (doc["id"], doc["version"], doc["versions"]) == (document_id, 2, 2)
    versions = run_cli(env, "versions", document_id).stdout.splitlines()
    assert [v.split()[0] for v in versions] == ["v1", "v2"]
    assert all("Payslip March" in v for v in versions)
    run_cli(env, "get", document_id, "-o", str(out))
    assert out.read_bytes() == corrected.read_bytes()
    old = tmp_path / "old.pdf"
    run_cli(env, "get", document_id, "--version", "1", "-o", str(old))
    assert old.read_bytes() == march.read_bytes()

    # Delete.
    run_cli(env, "rm", document_id)
    assert "Your wallet is empty" in run_cli(env, "ls").stdout
    assert_plain_failure(run_cli(env, "get", document_id, "-o", str(out), check=False))

    # Profile.
    run_cli(env, "profile", "set", "first_name", "Marie")
    assert "first_name: Marie" in run_cli(env, "profile", "show").stdout.splitlines()

    # Change the passphrase; the new one logs in, the old one no longer does.
    new_passphrase = f"a brand new passphrase {secrets.token_hex(4)}"
    changed = run_cli({**env, "WALLET_NEW_PASSPHRASE": new_passphrase}, "account", "passphrase")
    assert "passphrase is changed" in changed.stdout
    run_cli(env, "logout")
    wrong = run_cli(env, "login", "--handle", handle, check=False)  # the old passphrase
    assert_plain_failure(wrong, "Wrong handle or passphrase")
    with_new = {**env, "WALLET_PASSPHRASE": new_passphrase}
    assert f"Logged in as {handle}" in run_cli(with_new, "login", "--handle", handle).stdout

    # Forgot the passphrase: the recovery key sets a new one.
    recovered_passphrase = f"recovered passphrase {secrets.token_hex(4)}"
    recovery_env = {
        **env,
        "WALLET_RECOVERY_KEY": recovery_text.lower(),  # typed in lowercase from the sheet
        "WALLET_NEW_PASSPHRASE": recovered_passphrase,
    }
    recovered = run_cli(recovery_env, "account", "recover", "--handle", handle)
    assert "new passphrase is set" in recovered.stdout
    # The recovered keys open the profile.
    assert json.loads(run_cli(env, "profile", "show", "--json").stdout) == {"first_name": "Marie"}
    with_recovered = {**env, "WALLET_PASSPHRASE": recovered_passphrase}
    run_cli(with_recovered, "login", "--handle", handle)

    # Delete the account: afterwards nobody can log in.
    deleted = run_cli(with_recovered, "account", "delete", "--yes")
    assert "deleted" in deleted.stdout
    assert not (Path(env["WALLET_HOME"]) / "session.json").exists()
    gone = run_cli(with_recovered, "login", "--handle", handle, check=False)
    assert_plain_failure(gone, "Wrong handle or passphrase")


def test_cli_failures_are_one_plain_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = cli_env
    handle = new_handle()
    run_cli(env, "account", "create", "--handle", handle)
    source = tmp_path / "note.txt"
    source.write_bytes(b"a small note")

    unknown_id = secrets.token_hex(16)
    result = run_cli(env, "get", unknown_id, "-o", str(tmp_path / "x"), check=False)
    assert_plain_failure(result, f"No document {unknown_id}")
    assert not (tmp_path / "x").exists()

    result = run_cli(env, "upload", str(source), "--type", "spaceship", check=False)
    assert_plain_failure(result, "'spaceship' is not a document type")

    result = run_cli(env, "upload", str(source), "--expires", "31/03/2027", check=False)
    assert_plain_failure(result, "--expires must be a date like 2027-03-31")
    result = run_cli(env, "upload", str(source), "--issued", "2027-02-30", check=False)
    assert_plain_failure(result, "--issued must be a date")
    assert listed(env) == []  # none of the refused uploads stored anything

    result = run_cli(env, "profile", "set", "shoe_size", "42", check=False)
    assert_plain_failure(result, "'shoe_size' is not a profile field")

    run_cli(env, "logout")
    assert_plain_failure(run_cli(env, "ls", check=False), "You are not logged in")
    wrong = {**env, "WALLET_PASSPHRASE": "not the passphrase at all"}
    result = run_cli(wrong, "login", "--handle", handle, check=False)
    message = assert_plain_failure(result, "Wrong handle or passphrase")
    assert TEST_PASSPHRASE not in message
    assert not (Path(env["WALLET_HOME"]) / "session.json").exists()

    unreachable = {**env, "WALLET_SERVER": "http://127.0.0.1:9"}
    result = run_cli(unreachable, "login", "--handle", handle, check=False)
    assert_plain_failure(result, "Cannot reach the wallet server at http://127.0.0.1:9")
