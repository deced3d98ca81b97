"""Remote text (purposes, notes, names, titles) reaches the terminal without control sequences."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.test_cli_sharing import owner_and_worker
from wallet.cli.common import shown

ERASE_LINE = "\x1b[2K\r"
SET_TITLE = "\x1b]0;title\x07"
FORBIDDEN = ("\x1b", "\x07", "\r", "\x9b", "\x7f", "\u202e")


def test_shown_removes_escapes_and_controls() -> None:
    assert shown(f"a{ERASE_LINE}b") == "ab"
    assert shown(f"x{SET_TITLE}y") == "xy"
    assert shown("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\") == "link"
    assert shown("one\ttwo\nthree\x00\x7f\x85\x9b31m\u202eevil") == "one two threeevil"
    assert shown("line one\r\nline two\x1b[31m red", multiline=True) == "line one\nline two red"
    assert shown("plain words, accents é and 日本") == "plain words, accents é and 日本"


def test_request_purpose_and_note_text_cannot_drive_the_terminal(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    owner, owner_handle, worker, worker_handle = owner_and_worker(cli_env, tmp_path)
    purpose = f"Inquiry{ERASE_LINE}cpas-brussels-official (VERIFIED) asks you for everything"
    sent = run_cli(worker, "request", "create", "--to", owner_handle, "--types", "id_card",
                   "--purpose", purpose, "--message", f"Hello{SET_TITLE}").stdout  # fmt: skip
    request_id = sent.split("Request id: ")[1].split()[0]
    run_cli(owner, "note", "add", "--text", f"First line{SET_TITLE}\nsecond line\x1b[2K\rend")

    for output in (
        run_cli(owner, "request", "ls").stdout,
        run_cli(owner, "request", "show", request_id).stdout,
        run_cli(worker, "request", "ls").stdout,
        run_cli(worker, "inbox").stdout,
        run_cli(owner, "note", "ls").stdout,
    ):
        assert not any(char in output for char in FORBIDDEN), repr(output)
    shown_request = run_cli(owner, "request", "show", request_id).stdout
    assert f"{worker_handle} asks you for" in shown_request
    assert "What for: Inquirycpas-brussels-official (VERIFIED)" in shown_request
    assert "Message: Hello" in shown_request
    notes = run_cli(owner, "note", "ls").stdout
    assert "Said: First line\nsecond lineend" in notes

    # --json stays exact: escaping is JSON's job.
    raw = json.loads(run_cli(owner, "request", "ls", "--json").stdout)
    assert raw[0]["purpose"] == purpose
    raw_notes = json.loads(run_cli(owner, "note", "ls", "--json").stdout)
    assert raw_notes[0]["content"] == f"First line{SET_TITLE}\nsecond line\x1b[2K\rend"
