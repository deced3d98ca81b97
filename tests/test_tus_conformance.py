"""The stock tus clients against the real server (uvicorn over HTTP), as their users run them:
tuspy (PyPI) and tus-js-client 4.x in Node (tests/tus-node, pinned by its package-lock).
Each uploads the ciphertext of a prepared version; the version is then stored and opened with
the wallet's own client, so the bytes are proven exact. On the filesystem and the S3 store;
on PostgreSQL with WALLET_TEST_DATABASE_URL.

Runnable alone: pytest tests/test_tus_conformance.py
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tusclient import client as tus_client

from tests.conftest import LiveServer, next_head, run_live_server, store_env
from tests.test_uploads import API, TUS, PreparedVersion, bearer, prepare_version
from wallet.client import ApiClient, Vault

NODE_DIR = Path(__file__).parent / "tus-node"
MIB = 1024 * 1024
# Each test signs up a fresh account; this quota leaves room for the 50 MB parallel upload and
# lets the "counted once" test see a part counted twice.
QUOTA = 64 * MIB


@pytest.fixture(scope="module", params=["filesystem", "s3"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {**store_env(request, request.param, "tus"), "WALLET_ACCOUNT_QUOTA_BYTES": str(QUOTA)}
    with run_live_server(tmp_path_factory.mktemp("tus"), env) as live:
        yield live


@pytest.fixture
def vault(server: LiveServer) -> Vault:
    vault, _recovery = Vault.create_account(
        ApiClient(server.url), f"tus-{secrets.token_hex(4)}", "a passphrase for tus"
    )
    return vault


def store_and_open(server: LiveServer, vault: Vault, prepared: PreparedVersion, url: str) -> None:
    """Stores the uploaded ciphertext as the prepared version, then opens it."""
    upload_id = url.rstrip("/").rsplit("/", 1)[-1]
    head = next_head(vault, lambda s: s.documents.__setitem__(prepared.document_id, 1))
    with httpx.Client(base_url=server.url, timeout=60) as http:
        done = http.post(
            f"{API}/documents",
            json=prepared.body(upload_id),
            headers={**bearer(vault.api.token or ""), **head},
        )
    assert done.status_code == 201, done.text
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"tus-out-{secrets.token_hex(4)}"
    try:
        vault.download(prepared.document_id, out)
        assert out.read_bytes() == prepared.plaintext
    finally:
        out.unlink(missing_ok=True)


def ciphertext_file(tmp_path: Path, prepared: PreparedVersion) -> Path:
    path = tmp_path / "blob.age"
    path.write_bytes(prepared.ciphertext)
    return path


# --- tuspy --------------------------------------------------------------------------------------


def test_tuspy_uploads(server: LiveServer, vault: Vault, tmp_path: Path) -> None:
    prepared = prepare_version(vault, os.urandom(3 * MIB + 123))
    tus = tus_client.TusClient(f"{server.url}{API}/uploads", headers=bearer(vault.api.token or ""))
    uploader = tus.uploader(file_path=str(ciphertext_file(tmp_path, prepared)), chunk_size=MIB)
    uploader.upload()
    assert uploader.url is not None
    store_and_open(server, vault, prepared, uploader.url)


def test_tuspy_resumes_after_an_interrupt(server: LiveServer, vault: Vault, tmp_path: Path) -> None:
    prepared = prepare_version(vault, os.urandom(3 * MIB))
    path = str(ciphertext_file(tmp_path, prepared))
    tus = tus_client.TusClient(f"{server.url}{API}/uploads", headers=bearer(vault.api.token or ""))
    first = tus.uploader(file_path=path, chunk_size=MIB)
    first.upload(stop_at=MIB)  # then the program stops (a closed laptop)
    assert first.url is not None and first.offset == MIB

    # A new program, with only the upload's address kept: tuspy asks the offset and goes on.
    again = tus.uploader(file_path=path, url=first.url, chunk_size=MIB)
    assert again.offset == MIB
    again.upload()
    store_and_open(server, vault, prepared, again.url)


def test_tuspy_gets_412_from_another_tus_version(server: LiveServer, vault: Vault) -> None:
    response = httpx.post(
        f"{server.url}{API}/uploads",
        headers={**bearer(vault.api.token or ""), "Tus-Resumable": "0.2.2", "Upload-Length": "9"},
    )
    assert response.status_code == 412
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.json()["code"] == "tus_version_unsupported"


# --- tus-js-client in Node ------------------------------------------------------------------------


def _node(mode: str, server: LiveServer, vault: Vault, file: Path) -> dict[str, object]:
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "tus-js-client").is_dir():
        pytest.fail("tus-js-client is not installed: (cd tests/tus-node && npm ci)")
    result = subprocess.run(
        ["node", str(NODE_DIR / "upload.mjs"), mode, f"{server.url}{API}/uploads", str(file)],
        env={**os.environ, "TUS_TOKEN": vault.api.token or ""},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_tus_js_client_uploads(server: LiveServer, vault: Vault, tmp_path: Path) -> None:
    prepared = prepare_version(vault, os.urandom(2 * MIB + 5))
    answer = _node("whole", server, vault, ciphertext_file(tmp_path, prepared))
    assert answer["chunks"] == 3
    store_and_open(server, vault, prepared, str(answer["url"]))


def test_tus_js_client_resumes(server: LiveServer, vault: Vault, tmp_path: Path) -> None:
    prepared = prepare_version(vault, os.urandom(3 * MIB + 77))
    answer = _node("resume", server, vault, ciphertext_file(tmp_path, prepared))
    assert answer["url"] == answer["firstUrl"]  # the same upload, resumed
    assert answer["resumedAt"] is not None and int(str(answer["resumedAt"])) >= MIB
    store_and_open(server, vault, prepared, str(answer["url"]))


def test_tus_js_client_terminates(server: LiveServer, vault: Vault, tmp_path: Path) -> None:
    prepared = prepare_version(vault, os.urandom(3 * MIB))
    answer = _node("terminate", server, vault, ciphertext_file(tmp_path, prepared))
    status = httpx.head(str(answer["url"]), headers={**TUS, **bearer(vault.api.token or "")})
    assert status.status_code == 404


def memory_kib(server: LiveServer, field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of the server process, in KiB."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith(f"{field}:")]
    return int(line.split()[1])


def test_tus_js_client_parallel_uploads(server: LiveServer, vault: Vault, tmp_path: Path) -> None:
    """parallelUploads: 3, a 50 MB file: three partial uploads and one final upload, which
    is stored as one version whose signed hash covers the joined bytes."""
    prepared = prepare_version(vault, os.urandom(50 * 1000 * 1000))
    file = ciphertext_file(tmp_path, prepared)
    before = memory_kib(server, "VmRSS")
    Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")  # peak := now
    answer = _node("parallel", server, vault, file)
    grown_mib = (memory_kib(server, "VmHWM") - before) / 1024
    backend = server.settings_env.get("WALLET_STORAGE_BACKEND", "filesystem")
    print(f"server peak memory grew by {grown_mib:.1f} MiB for a 50 MB parallel upload ({backend})")
    # Flat: no part (about 17 MB each), let alone the whole file, is held in memory, on either
    # store (S3: each PATCH is spooled to disk and streamed to S3 from there; the parts are
    # joined by a server-side compose).
    assert grown_mib < 16, grown_mib
    final = httpx.head(str(answer["url"]), headers={**TUS, **bearer(vault.api.token or "")})
    assert final.status_code == 200
    concat = final.headers["Upload-Concat"]
    assert concat.startswith("final;") and len(concat.split()) == 3
    assert final.headers["Upload-Offset"] == final.headers["Upload-Length"]
    assert final.headers["Upload-Length"] == str(len(prepared.ciphertext))
    store_and_open(server, vault, prepared, str(answer["url"]))


def _patch(
    server: LiveServer, token: str, location: str, offset: int, body: bytes
) -> httpx.Response:
    headers = {
        **TUS,
        **bearer(token),
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
    }
    return httpx.patch(f"{server.url}{location}", content=body, headers=headers, timeout=60)


def _create(server: LiveServer, token: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}{API}/uploads", headers={**TUS, **bearer(token), **headers}, timeout=60
    )


def test_a_part_sent_twice_is_not_counted_twice(server: LiveServer, vault: Vault) -> None:
    """A part's bytes sent again (an answer lost on the way) are not added again, a part is
    not joined twice, and a part joined into a final upload is not counted against the quota
    beside the final upload that now carries its bytes."""
    token = vault.api.token or ""
    size = 20 * MIB
    bodies = [os.urandom(size), os.urandom(size)]
    locations = []
    for body in bodies:
        created = _create(server, token, **{"Upload-Length": str(size), "Upload-Concat": "partial"})
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        half = size // 2
        assert _patch(server, token, location, 0, body[:half]).status_code == 204
        # The first half again, as a client whose answer was lost sends it: refused (409,
        # the offset moved on), and the offset stays where it was.
        again = _patch(server, token, location, 0, body[:half])
        assert again.status_code == 409, again.text
        status = httpx.head(f"{server.url}{location}", headers={**TUS, **bearer(token)})
        assert status.headers["Upload-Offset"] == str(half)
        assert _patch(server, token, location, half, body[half:]).status_code == 204
        locations.append(location)

    twice = _create(server, token, **{"Upload-Concat": f"final;{locations[0]} {locations[0]}"})
    assert twice.status_code == 400 and twice.json()["code"] == "upload_concat_invalid"

    final = _create(server, token, **{"Upload-Concat": f"final;{' '.join(locations)}"})
    assert final.status_code == 201, final.text
    status = httpx.head(
        f"{server.url}{final.headers['Location']}", headers={**TUS, **bearer(token)}
    )
    assert status.headers["Upload-Length"] == str(2 * size)
    # The same parts in another final upload, or sent to again: gone for tus.
    other = _create(server, token, **{"Upload-Concat": f"final;{locations[1]} {locations[0]}"})
    assert other.status_code == 400, other.text
    assert _patch(server, token, locations[0], size, b"x").status_code == 404

    # 40 MiB reserved by the final upload (its parts' bytes, once): 20 MiB more fit the
    # 64 MiB quota. Counting the parts beside the final would make it 100 MiB.
    more = _create(server, token, **{"Upload-Length": str(20 * MIB)})
    assert more.status_code == 201, more.text
    full = _create(server, token, **{"Upload-Length": str(5 * MIB)})
    assert full.status_code == 507 and full.json()["code"] == "quota_full"
