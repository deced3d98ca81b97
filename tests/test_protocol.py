"""The protocol has one definition (wallet/protocol): the committed vectors are what it gives,
the web app's generated copy is exactly what it renders, and no label is written by hand
anywhere else. WALLET_UPDATE_VECTORS=1 rewrites tests/vectors/protocol/ on purpose (say why
in the commit: a changed vector means old signatures or wraps no longer match)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nacl.signing
import pytest

from tests.protocol_samples import SAMPLES, SEED, VECTORS, compute, load, render
from wallet.crypto.encoding import b64d, canonical_json
from wallet.crypto.signing import verify
from wallet.protocol import labels, statements
from wallet.protocol.js import OUTPUT
from wallet.protocol.js import render as render_js

ROOT = Path(__file__).resolve().parents[1]


def test_vectors_are_what_the_python_definitions_give() -> None:
    current = compute()
    if os.environ.get("WALLET_UPDATE_VECTORS") == "1":
        VECTORS.mkdir(parents=True, exist_ok=True)
        for name, value in current.items():
            (VECTORS / name).write_text(render(value), encoding="utf-8")
    for name, value in current.items():
        path = VECTORS / name
        assert path.exists(), f"{path} is missing: WALLET_UPDATE_VECTORS=1 pytest {__file__}"
        assert path.read_text(encoding="utf-8") == render(value), (
            f"{name} differs from the Python definitions. If the change is meant, regenerate "
            "with WALLET_UPDATE_VECTORS=1 and say why in the commit."
        )


def test_every_kind_has_a_signed_sample_that_verifies() -> None:
    vectors = load()["statements.json"]
    assert set(SAMPLES) == set(statements.KINDS) == set(vectors["samples"])
    assert len(statements.KINDS) == 19
    public = bytes(nacl.signing.SigningKey(SEED).verify_key)
    for kind, sample in vectors["samples"].items():
        message = sample["canonical"].encode()
        verify(public, message, b64d(sample["signature"]))
        parsed = statements.KINDS[kind].parse(message)
        assert canonical_json(parsed) == message
        # Every field of the kind appears in its sample, so a renamed one changes the bytes.
        assert set(parsed) == {"v", "kind", *statements.KINDS[kind].names}


def test_build_and_check_refuse_what_is_not_the_definition() -> None:
    kind = statements.TEAM_KEY_SEAL
    good = dict(SAMPLES["team-key-seal"])
    assert kind.build(**good)["kind"] == "team-key-seal"
    for bad, reason in [
        ({**good, "sealed_hash": "x"}, "unknown field 'sealed_hash'"),
        ({k: v for k, v in good.items() if k != "admin"}, "'admin' is missing"),
        ({**good, "member": 7}, "'member' is not of type string"),
    ]:
        with pytest.raises(statements.StatementError, match=reason):
            kind.build(**bad)
    statement = kind.build(**good)
    for changed in ({"v": 2}, {"kind": "team-key"}):
        with pytest.raises(statements.StatementError, match="not a team-key-seal"):
            kind.check({**statement, **changed})
    with pytest.raises(statements.StatementError, match="integer"):
        statements.DOCUMENT_VERSION.check(
            statements.DOCUMENT_VERSION.build(**SAMPLES["document-version"]) | {"version": True}
        )
    # Optional fields may be left out, nothing else.
    plain = {k: v for k, v in SAMPLES["grant-wrap"].items() if k != "manifest_sha256"}
    assert "manifest_sha256" not in statements.GRANT_WRAP.build(**plain)
    with pytest.raises(statements.StatementError):
        statements.kind_of({"kind": "no-such-kind"})


def test_labels_are_unique_and_info_joins_with_a_bar() -> None:
    assert len(set(labels.ALL.values())) == len(labels.ALL) >= 27
    assert labels.info(labels.GRANT, "g", 3) == b"wallet/v1/grant|g|3"


def test_the_generated_js_is_exactly_what_python_renders() -> None:
    """A hand edit to web/src/generated/protocol.js, or a Python change not regenerated, fails."""
    path = ROOT / OUTPUT
    if not path.exists():
        pytest.fail(f"{OUTPUT} is missing: run scripts/gen_protocol.py (scripts/install.sh does)")
    assert path.read_text(encoding="utf-8") == render_js(), (
        f"{OUTPUT} is not what wallet/protocol gives: never edit it, run scripts/gen_protocol.py"
    )
    checked = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protocol.py"), "--check"], check=False
    )
    assert checked.returncode == 0


def test_the_check_command_catches_a_hand_edit(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    (copy / "scripts").mkdir(parents=True)
    (copy / "scripts" / "gen_protocol.py").write_text(
        (ROOT / "scripts" / "gen_protocol.py").read_text()
    )
    (copy / "wallet").symlink_to(ROOT / "wallet")
    target = copy / OUTPUT
    target.parent.mkdir(parents=True)
    target.write_text(render_js().replace('"wallet/v1/grant"', '"wallet/v1/grants"'))
    script = str(copy / "scripts" / "gen_protocol.py")
    assert subprocess.run([sys.executable, script, "--check"], check=False).returncode == 1
    assert subprocess.run([sys.executable, script], check=False).returncode == 0
    assert target.read_text() == render_js()


def test_no_label_is_written_by_hand_outside_the_protocol() -> None:
    pattern = re.compile(r"wallet/v1/[a-z]")
    allowed = {ROOT / "wallet" / "protocol" / "labels.py"}
    found = []
    for folder, suffix in [("wallet", ".py"), ("sharing", ".py"), ("web/src", ".js")]:
        for path in (ROOT / folder).rglob(f"*{suffix}"):
            if path in allowed or "generated" in path.parts or "node_modules" in path.parts:
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                found.append(str(path.relative_to(ROOT)))
    assert not found, f"labels written by hand (use wallet/protocol/labels.py): {found}"
