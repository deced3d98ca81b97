"""The `wallet` command and the Python library are two clients of one format: what one writes,
the other reads, over real HTTP."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from tests.conftest import TEST_PASSPHRASE, LiveServer, run_cli
from wallet.client import ApiClient, Vault


def test_cli_and_library_read_each_other(
    live_server: LiveServer, cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = cli_env
    handle = f"interop-{secrets.token_hex(6)}"
    run_cli(env, "account", "create", "--handle", handle)

    # The CLI writes a document and a profile field ...
    cli_file = tmp_path / "diploma.pdf"
    cli_file.write_bytes(b"%PDF-1.4 diploma " + secrets.token_bytes(4000))
    run_cli(
        env, "upload", str(cli_file), "--type", "diploma", "--title", "Master in Law",
        "--issuer", "ULB", "--issued", "2019-06-30", "--tag", "studies",
    )  # fmt: skip
    run_cli(env, "profile", "set", "last_name", "Dubois-Ñúñez")

    # ... and the library, logged in on its own, reads and decrypts them.
    vault = Vault.login(ApiClient(live_server.url), handle, TEST_PASSPHRASE)
    (doc,) = vault.list_documents()
    assert (doc.title, doc.type, doc.version, doc.versions) == ("Master in Law", "diploma", 1, 1)
    assert doc.meta["issuer"] == "ULB"
    assert doc.meta["issue_date"] == "2019-06-30"
    assert doc.meta["tags"] == ["studies"]
    assert doc.meta["file_name"] == "diploma.pdf"
    library_copy = tmp_path / "library-copy.pdf"
    vault.download(doc.id, library_copy)
    assert library_copy.read_bytes() == cli_file.read_bytes()
    assert vault.profile() == {"last_name": "Dubois-Ñúñez"}

    # The library writes a new version, another document and a profile field ...
    new_version = tmp_path / "diploma-v2.pdf"
    new_version.write_bytes(b"%PDF-1.4 diploma v2 " + secrets.token_bytes(5000))
    assert vault.upload(new_version, "diploma", "Master in Law", replace=doc.id) == (doc.id, 2)
    lease_file = tmp_path / "lease.pdf"
    lease_file.write_bytes(b"%PDF-1.4 lease " + secrets.token_bytes(6000))
    lease_id, _ = vault.upload(lease_file, "lease", "Lease 2025", expiry_date="2028-01-31")
    vault.set_profile_field("first_name", "Zoë")

    # ... and the CLI returns exactly those bytes and values.
    listed = {d["id"]: d for d in json.loads(run_cli(env, "ls", "--json").stdout)}
    assert set(listed) == {doc.id, lease_id}
    assert (listed[doc.id]["version"], listed[doc.id]["versions"]) == (2, 2)
    assert listed[lease_id]["title"] == "Lease 2025"
    assert listed[lease_id]["expiry_date"] == "2028-01-31"
    for document_id, version, expected in (
        (doc.id, None, new_version),
        (doc.id, 1, cli_file),
        (lease_id, None, lease_file),
    ):
        out = tmp_path / f"cli-{document_id}-{version}"
        args = ["get", document_id, "-o", str(out)]
        if version is not None:
            args += ["--version", str(version)]
        run_cli(env, *args)
        assert out.read_bytes() == expected.read_bytes()
    profile = json.loads(run_cli(env, "profile", "show", "--json").stdout)
    assert profile == {"first_name": "Zoë", "last_name": "Dubois-Ñúñez"}

    # A removal on one side shows on the other.
    run_cli(env, "rm", lease_id)
    assert [d.id for d in vault.list_documents()] == [doc.id]
    vault.remove_profile_field("last_name")
    assert json.loads(run_cli(env, "profile", "show", "--json").stdout) == {"first_name": "Zoë"}
