"""Server memory while ingesting a 1 GiB upload over tus.

Starts `wallet serve` (WALLET_MAX_UPLOAD_BYTES = 1.1 GiB), reads the idle RSS of the server's
process tree (VmRSS from /proc/PID/status, summed over all descendants), then uploads a 1 GiB
random file (ciphertext-like; the server never looks inside) with
wallet.client.transfer.upload_file (8 MiB PATCHes) while a thread samples the RSS every 20 ms.
Prints idle, peak and peak - idle in MB (10^6 bytes), goal: peak - idle <= 64 MB.

For information it then completes the upload as a document and streams it back
(wallet.client.transfer.download_to into a sink that discards), sampling the same way.
Run: .venv/bin/python benchmarks/ingest_memory.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from _common import (
    FAST_KDF,
    MB,
    PASSPHRASE,
    MiB,
    RssSampler,
    live_server,
    table,
    tree_rss_bytes,
    write_random_file,
)

from wallet.client import ApiClient, Vault
from wallet.client.transfer import download_to, upload_file
from wallet.crypto import age
from wallet.crypto.encoding import b64e
from wallet.crypto.signing import sign

GOAL_MB = 64


class Sink:
    """A write-only file object that keeps nothing."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return len(data)


def idle_rss(pid: int, seconds: float = 1.0) -> int:
    """Median of a second of samples after the server has settled."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(tree_rss_bytes(pid))
        time.sleep(0.02)
    samples.sort()
    return samples[len(samples) // 2]


def complete(vault: Vault, upload_id: str, path: Path, blob_sha256: str) -> str:
    document_id = uuid.uuid4().hex
    identity = age.new_identity()
    encrypted_meta = age.encrypt_bytes(
        json.dumps({"v": 1, "type": "other"}).encode(), age.recipient_of(identity)
    )
    wrapped_key = vault._seal_document_key(identity, document_id, 1)
    manifest, signature = sign(
        vault.keys.signing_key,
        {
            "v": 1,
            "kind": "document-version",
            "document_id": document_id,
            "version": 1,
            "blob_sha256": blob_sha256,
            "blob_size": path.stat().st_size,
            "meta_sha256": hashlib.sha256(encrypted_meta).hexdigest(),
            "wraps": [
                {"key_id": vault.keys.key_id, "sha256": hashlib.sha256(wrapped_key).hexdigest()}
            ],
            "signed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    vault.api.api(
        "POST",
        "/documents",
        json={
            "document_id": document_id,
            "upload_id": upload_id,
            "encrypted_meta": b64e(encrypted_meta),
            "wrapped_key": b64e(wrapped_key),
            "manifest": b64e(manifest),
            "signature": b64e(signature),
        },
    )
    return document_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mib * MiB
    limit = int(size * 1.1)

    env = {**FAST_KDF, "WALLET_MAX_UPLOAD_BYTES": str(limit)}
    with live_server(env, prefix="wallet-bench-memory-") as (server, work):
        source = work / "upload.bin"
        digest = hashlib.sha256()
        cold_idle = idle_rss(server.pid)
        write_random_file(source, size)
        with open(source, "rb") as handle:
            while chunk := handle.read(8 * MiB):
                digest.update(chunk)

        vault, _recovery = Vault.create_account(
            ApiClient(server.url, timeout=600), "bench-memory", PASSPHRASE
        )
        # One small request on every route used, so lazy imports and pools are warm.
        warm = work / "warm.bin"
        write_random_file(warm, 1024)
        complete(
            vault,
            upload_file(vault.api, warm)[0],
            warm,
            hashlib.sha256(warm.read_bytes()).hexdigest(),
        )

        idle = idle_rss(server.pid)
        started = time.perf_counter()
        with RssSampler(server.pid, 0.02) as up:
            upload_id, _sha = upload_file(vault.api, source)
        up_seconds = time.perf_counter() - started
        after_upload = idle_rss(server.pid, 0.5)

        document_id = complete(vault, upload_id, source, digest.hexdigest())
        source.unlink()  # the 1 GiB file goes as soon as it is not needed
        sink = Sink()
        started = time.perf_counter()
        with RssSampler(server.pid, 0.02) as down:
            got = download_to(vault.api, f"/documents/{document_id}/versions/1/blob", sink, size)
        down_seconds = time.perf_counter() - started
        assert sink.written == size and got == digest.hexdigest(), "download differs"
        vault.delete(document_id)
        pids = server.pid

    def mb(value: int) -> str:
        return f"{value / MB:.1f}"

    print(
        f"ingest_memory: {size / MiB:.0f} MiB via tus 8 MiB PATCHes, RSS of server pid {pids} "
        f"and its children, sampled every 20 ms, MB = 10^6 bytes"
    )
    rows = [
        [
            "upload (tus)",
            mb(idle),
            mb(up.peak),
            mb(up.peak - idle),
            len(up.samples),
            f"{size / MB / up_seconds:.0f}",
            f"<= {GOAL_MB}",
        ],
        [
            "download (info)",
            mb(idle),
            mb(down.peak),
            mb(down.peak - idle),
            len(down.samples),
            f"{size / MB / down_seconds:.0f}",
            "",
        ],
    ]
    print(
        table(["phase", "idle MB", "peak MB", "peak-idle MB", "samples", "MB/s", "goal MB"], rows)
    )
    print(
        f"idle right after start (before any upload): {mb(cold_idle)} MB; idle above is after "
        f"one 1 KiB upload+completion warmed every route; RSS 0.5 s after the big upload: "
        f"{mb(after_upload)} MB"
    )


if __name__ == "__main__":
    main()
