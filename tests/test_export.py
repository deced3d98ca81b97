"""`wallet export DIR`: everything leaves encrypted, and the stock `age` tool opens all of it."""

from __future__ import annotations

import json
import os
import pty
import re
import secrets
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSPHRASE, LiveServer, run_cli
from wallet.client.vault import file_slug

# The stock age tool (scripts/test.sh installs it). Missing, these tests fail: they do not skip.
AGE = shutil.which("age") or "/usr/bin/age"
EXPORT_NAME = re.compile(
    r"^(?P<slug>.+)__(?P<type>[a-z_]+)__v(?P<version>\d+)__(?P<id>[0-9a-f]{8})\.age$"
)


def age_with_passphrase(
    args: list[str], passphrase: str, cwd: Path, timeout: float = 60
) -> tuple[int, str]:
    """Runs stock age in a pseudo-terminal and types `passphrase` at its prompt.

    age reads passphrases only from a terminal, never from stdin or the environment.
    Returns the exit code and what age wrote to the terminal.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes age, with the pty as its controlling terminal
        try:
            os.chdir(cwd)
            os.execv(AGE, [AGE, *args])
        finally:
            os._exit(127)
    output = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: age exited and closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Enter passphrase" in output:
                os.write(fd, passphrase.encode() + b"\n")
                answered = True
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert answered, f"age never asked for the passphrase: {output!r}"
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


@dataclass
class Export:
    directory: Path
    # (document id, version) -> plaintext
    versions: dict[tuple[str, int], bytes]
    titles: dict[str, str]
    types: dict[str, str]
    canary: str
    secrets_in_clear: list[bytes]


@pytest.fixture(scope="module")
def exported(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Export:
    tmp = tmp_path_factory.mktemp("export")
    env = {
        **os.environ,
        "WALLET_SERVER": live_server.url,
        "WALLET_HOME": str(tmp / "home"),
        "WALLET_PASSPHRASE": TEST_PASSPHRASE,
    }
    run_cli(env, "account", "create", "--handle", f"export-{secrets.token_hex(6)}")

    token = secrets.token_hex(6)
    payslip_title = f"Payslip March {token}"
    lease_title = f"Lease Rue Haute {token}"
    marker = f"PLAINTEXT-MARKER-{token}".encode()
    payslip_v1 = marker + b" payslip v1 " + secrets.token_bytes(5000)
    payslip_v2 = marker + b" payslip v2 " + secrets.token_bytes(7000)
    lease = marker + b" lease " + secrets.token_bytes(3000)
    for name, data in (("v1.pdf", payslip_v1), ("v2.pdf", payslip_v2), ("lease.pdf", lease)):
        (tmp / name).write_bytes(data)

    run_cli(env, "upload", str(tmp / "v1.pdf"), "--type", "payslip", "--title", payslip_title)
    run_cli(env, "upload", str(tmp / "lease.pdf"), "--type", "lease", "--title", lease_title)
    ids = {d["title"]: d["id"] for d in json.loads(run_cli(env, "ls", "--json").stdout)}
    payslip_id, lease_id = ids[payslip_title], ids[lease_title]
    run_cli(
        env, "upload", str(tmp / "v2.pdf"), "--type", "payslip", "--title", payslip_title,
        "--replace", payslip_id,
    )  # fmt: skip

    canary = f"Canary-{secrets.token_hex(8)}"
    run_cli(env, "profile", "set", "address", f"12 {canary} Street")

    directory = tmp / "export"
    result = run_cli(env, "export", str(directory))
    assert "Exported 3 document files" in result.stdout
    return Export(
        directory=directory,
        versions={(payslip_id, 1): payslip_v1, (payslip_id, 2): payslip_v2, (lease_id, 1): lease},
        titles={payslip_id: payslip_title, lease_id: lease_title},
        types={payslip_id: "payslip", lease_id: "lease"},
        canary=canary,
        secrets_in_clear=[
            canary.encode(),
            marker,
            payslip_v1,
            payslip_v2,
            lease,
            token.encode(),  # in the titles: only file names may show them
            TEST_PASSPHRASE.encode(),
            b"AGE-SECRET-KEY-1",
        ],
    )


def document_files(export: Export) -> dict[tuple[str, int], Path]:
    """Maps each exported document file to its (document id, version)."""
    found: dict[tuple[str, int], Path] = {}
    for path in (export.directory / "documents").iterdir():
        match = EXPORT_NAME.match(path.name)
        assert match, f"unexpected file name {path.name}"
        document_id = next(d for d in export.titles if d.startswith(match["id"]))
        assert match["slug"] == file_slug(export.titles[document_id])
        assert match["type"] == export.types[document_id]
        found[(document_id, int(match["version"]))] = path
    return found


def test_export_layout(exported: Export) -> None:
    root = exported.directory
    for name in ("identities.age", "index.json.age", "profile.json.age", "README.txt"):
        assert (root / name).is_file(), name
    files = document_files(exported)
    assert set(files) == set(exported.versions)  # one file per version, no more
    for (document_id, _version), path in files.items():
        title_words = exported.titles[document_id].split()
        assert all(word in path.name for word in title_words)  # the slug keeps the title
        assert path.read_bytes().startswith(b"age-encryption.org/v1\n")
    readme = (root / "README.txt").read_text()
    assert "age -d -o identities.txt identities.age" in readme


def test_export_holds_nothing_in_clear(exported: Export) -> None:
    scanned = 0
    for path in exported.directory.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            scanned += 1
            for secret in exported.secrets_in_clear:
                assert secret not in content, f"{path.name} holds {secret[:40]!r} in clear"
    assert scanned == 7  # 3 documents, identities, index, profile, README


@pytest.fixture(scope="module")
def identities_file(exported: Export, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """identities.age opened with stock age, typing the passphrase at its prompt."""
    identities = tmp_path_factory.mktemp("opened") / "identities.txt"
    code, said = age_with_passphrase(
        ["-d", "-o", str(identities), "identities.age"], TEST_PASSPHRASE, exported.directory
    )
    assert code == 0, said
    return identities


def stock_age_decrypt(identities: Path, source: Path, target: Path) -> int:
    result = subprocess.run(
        [AGE, "-d", "-i", str(identities), "-o", str(target), str(source)],
        capture_output=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    return result.returncode


def test_stock_age_opens_every_document(
    exported: Export, identities_file: Path, tmp_path: Path
) -> None:
    keys = [line for line in identities_file.read_text().splitlines() if line.startswith("AGE-")]
    assert len(keys) == len(exported.versions)  # one key per version
    for (document_id, version), path in document_files(exported).items():
        out = tmp_path / f"{document_id}-v{version}"
        assert stock_age_decrypt(identities_file, path, out) == 0
        assert out.read_bytes() == exported.versions[(document_id, version)]


def test_a_document_does_not_open_with_another_versions_key(
    exported: Export, identities_file: Path, tmp_path: Path
) -> None:
    # Each version has its own key: one version's key opens that version only.
    by_file: dict[str, str] = {}
    name = ""
    for line in identities_file.read_text().splitlines():
        if line.startswith("# ") and line.endswith(".age"):
            name = line[2:]
        elif line.startswith("AGE-SECRET-KEY-1"):
            by_file[name] = line
    files = list(document_files(exported).items())
    assert len(files) == 3
    for index, (key, path) in enumerate(files):
        single = tmp_path / f"key-{index}.txt"
        single.write_text(by_file[path.name] + "\n")
        assert stock_age_decrypt(single, path, tmp_path / f"ok-{index}") == 0
        assert (tmp_path / f"ok-{index}").read_bytes() == exported.versions[key]
        other = files[(index + 1) % len(files)][1]
        refused = tmp_path / f"no-{index}"
        assert stock_age_decrypt(single, other, refused) != 0
        assert not refused.exists() or refused.read_bytes() == b""


def test_stock_age_opens_the_index_and_profile(exported: Export, tmp_path: Path) -> None:
    root = exported.directory
    index_path = tmp_path / "index.json"
    code, said = age_with_passphrase(
        ["-d", "-o", str(index_path), "index.json.age"], TEST_PASSPHRASE, root
    )
    assert code == 0, said
    index = json.loads(index_path.read_text())
    assert {(e["document_id"], e["version"]) for e in index} == set(exported.versions)
    for entry in index:
        assert entry["title"] == exported.titles[entry["document_id"]]
        assert entry["type"] == exported.types[entry["document_id"]]
        assert (root / entry["file"]).is_file()

    profile_path = tmp_path / "profile.json"
    code, said = age_with_passphrase(
        ["-d", "-o", str(profile_path), "profile.json.age"], TEST_PASSPHRASE, root
    )
    assert code == 0, said
    assert json.loads(profile_path.read_text()) == {"address": f"12 {exported.canary} Street"}


def test_stock_age_refuses_a_wrong_passphrase(exported: Export, tmp_path: Path) -> None:
    out = tmp_path / "identities.txt"
    code, said = age_with_passphrase(
        ["-d", "-o", str(out), "identities.age"], "not the wallet passphrase", exported.directory
    )
    assert code != 0
    assert "incorrect passphrase" in said
    assert not out.exists() or out.read_bytes() == b""
