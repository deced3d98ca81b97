"""Throughput of one 100 MB document, against baselines measured in the same run.

  (a) stock `age` CLI encrypting the file to a fresh X25519 recipient       -> baseline A
  (b) raw copy of the ciphertext into the server's blob-store dir
      (FilesystemBlobStore.put, 1 MiB reads, fsync at the end)              -> baseline B
  (c) server ingest of that same ciphertext over the API
      (tus POST + 8 MiB PATCHes + POST /documents completion)               -> ratio of B, goal >= 0.70
  (d) end-to-end with the Python client:
      upload side   = plaintext size / vault.upload   (encrypt + sha256 + tus + complete)
      download side = plaintext size / vault.download (fetch versions + stream + sha256 check
                                                       + decrypt + fsync + rename)
      round trip    = plaintext size / (upload time + download time)
      each as a ratio of A, goal for the round trip >= 0.50

Every step runs REPEAT times; the median time is reported. MB = 10^6 bytes.
Run: .venv/bin/python benchmarks/throughput.py [--size-mb 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from _common import (
    FAST_KDF,
    MB,
    PASSPHRASE,
    histogram_sum_count,
    live_server,
    median,
    table,
    write_random_file,
)

from storage.filesystem import FilesystemBlobStore
from wallet.client import ApiClient, Vault
from wallet.client.transfer import upload_file
from wallet.client.vault import META_VERSION
from wallet.crypto import age
from wallet.crypto.encoding import b64e
from wallet.crypto.signing import sign

AGE = "/usr/bin/age"
AGE_KEYGEN = "/usr/bin/age-keygen"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def file_chunks(path: Path, block: int = 1024 * 1024):  # type: ignore[no-untyped-def]
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            yield chunk


def prepare_completion(vault: Vault, ciphertext: Path) -> tuple[str, dict]:
    """Everything vault.upload computes around the upload, done ahead so only ingest is timed."""
    document_id = uuid.uuid4().hex
    identity = age.new_identity()
    meta = {"v": META_VERSION, "type": "other", "title": "ingest", "tags": []}
    encrypted_meta = age.encrypt_bytes(json.dumps(meta).encode(), age.recipient_of(identity))
    wrapped_key = vault._seal_document_key(identity, document_id, 1)
    manifest, signature = sign(
        vault.keys.signing_key,
        {
            "v": 1,
            "kind": "document-version",
            "document_id": document_id,
            "version": 1,
            "blob_sha256": file_sha256(ciphertext),
            "blob_size": ciphertext.stat().st_size,
            "meta_sha256": hashlib.sha256(encrypted_meta).hexdigest(),
            "wraps": [
                {"key_id": vault.keys.key_id, "sha256": hashlib.sha256(wrapped_key).hexdigest()}
            ],
            "signed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    body = {
        "document_id": document_id,
        "encrypted_meta": b64e(encrypted_meta),
        "wrapped_key": b64e(wrapped_key),
        "manifest": b64e(manifest),
        "signature": b64e(signature),
    }
    return document_id, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mb * MB
    repeat = args.repeat

    with live_server(FAST_KDF, prefix="wallet-bench-throughput-") as (server, work):
        plain = work / "plain.bin"
        write_random_file(plain, size)
        plain_sha = file_sha256(plain)  # also warms the page cache for every step alike

        # (a) stock age CLI, fresh X25519 recipient -------------------------------------------
        key_file = work / "age-key.txt"
        subprocess.run([AGE_KEYGEN, "-o", str(key_file)], check=True, capture_output=True)
        recipient = subprocess.run(
            [AGE_KEYGEN, "-y", str(key_file)], check=True, capture_output=True, text=True
        ).stdout.strip()
        age_out = work / "age-cli.age"
        age_dec = work / "age-cli.dec"
        t_age_enc, t_age_dec = [], []
        for _ in range(repeat):
            age_out.unlink(missing_ok=True)
            started = time.perf_counter()
            subprocess.run([AGE, "-r", recipient, "-o", str(age_out), str(plain)], check=True)
            t_age_enc.append(time.perf_counter() - started)
            age_dec.unlink(missing_ok=True)
            started = time.perf_counter()
            subprocess.run(
                [AGE, "-d", "-i", str(key_file), "-o", str(age_dec), str(age_out)], check=True
            )
            t_age_dec.append(time.perf_counter() - started)
        age_out.unlink(missing_ok=True)
        age_dec.unlink(missing_ok=True)

        # The ciphertext that (b) and (c) move: a real age file for a document identity.
        ciphertext = work / "blob.age"
        identity = age.new_identity()
        t_pyrage = []
        for _ in range(repeat):
            started = time.perf_counter()
            with open(plain, "rb") as source, open(ciphertext, "wb") as target:
                age.encrypt_stream(source, target, age.recipient_of(identity))
            t_pyrage.append(time.perf_counter() - started)
        ct_size = ciphertext.stat().st_size
        file_sha256(ciphertext)  # page cache

        # (b) raw copy into the server's own blob-store dir -------------------------------------
        store = FilesystemBlobStore(server.data_dir)
        t_raw = []
        for i in range(repeat):
            key = f"benchraw{i:02d}{uuid.uuid4().hex}"
            started = time.perf_counter()
            written = store.put(key, file_chunks(ciphertext))
            t_raw.append(time.perf_counter() - started)
            assert written == ct_size
            store.delete(key)

        # (c) server ingest of the same ciphertext -----------------------------------------------
        vault, _recovery = Vault.create_account(
            ApiClient(server.url, timeout=600), "bench-throughput", PASSPHRASE
        )
        t_ingest, t_tus, t_complete = [], [], []
        patch_before = histogram_sum_count(
            server.metrics_text(),
            "wallet_http_request_seconds",
            "PATCH",
            "/api/v1/uploads/{upload_id}",
        )
        for _ in range(repeat):
            document_id, body = prepare_completion(vault, ciphertext)
            started = time.perf_counter()
            upload_id, _sha = upload_file(vault.api, ciphertext)
            tus_done = time.perf_counter()
            vault.api.api("POST", "/documents", json={**body, "upload_id": upload_id})
            done = time.perf_counter()
            t_ingest.append(done - started)
            t_tus.append(tus_done - started)
            t_complete.append(done - tus_done)
            vault.delete(document_id)
        patch_after = histogram_sum_count(
            server.metrics_text(),
            "wallet_http_request_seconds",
            "PATCH",
            "/api/v1/uploads/{upload_id}",
        )
        patch_server_s = (patch_after[0] - patch_before[0]) / repeat
        patch_requests = int((patch_after[1] - patch_before[1]) / repeat)
        ciphertext.unlink()

        # (d) end to end through the client ----------------------------------------------------
        t_up, t_down = [], []
        roundtrip_ok = True
        for i in range(repeat):
            target = work / f"download-{i}.bin"
            started = time.perf_counter()
            document_id, _version = vault.upload(plain, "payslip", "title")
            t_up.append(time.perf_counter() - started)
            started = time.perf_counter()
            vault.download(document_id, target)
            t_down.append(time.perf_counter() - started)
            roundtrip_ok &= file_sha256(target) == plain_sha
            target.unlink()
            vault.delete(document_id)

    # Report --------------------------------------------------------------------------------
    def rate(nbytes: int, seconds: float) -> float:
        return nbytes / MB / seconds

    a = rate(size, median(t_age_enc))
    b = rate(ct_size, median(t_raw))
    c = rate(ct_size, median(t_ingest))
    up = rate(size, median(t_up))
    down = rate(size, median(t_down))
    rt = rate(size, median(t_up) + median(t_down))
    rt_t = median(t_up) + median(t_down)

    print(
        f"throughput: plaintext {size / MB:.0f} MB, ciphertext {ct_size / MB:.3f} MB, "
        f"median of {repeat} runs, MB = 10^6 bytes, python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    rows = [
        [
            "(a) age CLI encrypt [baseline A]",
            "age -r X25519 -o file",
            f"{median(t_age_enc):.3f}",
            f"{a:.0f}",
            "1.00 A",
            "",
        ],
        [
            "    age CLI decrypt (info)",
            "age -d -i key -o file",
            f"{median(t_age_dec):.3f}",
            f"{rate(size, median(t_age_dec)):.0f}",
            f"{rate(size, median(t_age_dec)) / a:.2f} A",
            "",
        ],
        [
            "    pyrage encrypt_io (info)",
            "client's encrypt step",
            f"{median(t_pyrage):.3f}",
            f"{rate(size, median(t_pyrage)):.0f}",
            f"{rate(size, median(t_pyrage)) / a:.2f} A",
            "",
        ],
        [
            "(b) raw blob-store put [baseline B]",
            "FilesystemBlobStore.put+fsync",
            f"{median(t_raw):.3f}",
            f"{b:.0f}",
            "1.00 B",
            "",
        ],
        [
            "(c) server ingest",
            "tus POST+PATCHes+complete",
            f"{median(t_ingest):.3f}",
            f"{c:.0f}",
            f"{c / b:.2f} B",
            ">= 0.70 B",
        ],
        [
            "    tus POST+PATCH only",
            f"{patch_requests} PATCHes of 8 MiB",
            f"{median(t_tus):.3f}",
            f"{rate(ct_size, median(t_tus)):.0f}",
            f"{rate(ct_size, median(t_tus)) / b:.2f} B",
            "",
        ],
        [
            "    PATCH time inside server",
            "/metrics histogram sum",
            f"{patch_server_s:.3f}",
            f"{rate(ct_size, patch_server_s):.0f}",
            f"{rate(ct_size, patch_server_s) / b:.2f} B",
            "",
        ],
        [
            "    POST /documents completion",
            "manifest check+rename",
            f"{median(t_complete):.3f}",
            "",
            "",
            "",
        ],
        [
            "(d) e2e upload side",
            "size/(encrypt+sha+upload+complete)",
            f"{median(t_up):.3f}",
            f"{up:.0f}",
            f"{up / a:.2f} A",
            "",
        ],
        [
            "(d) e2e download side",
            "size/(download+verify+decrypt)",
            f"{median(t_down):.3f}",
            f"{down:.0f}",
            f"{down / a:.2f} A",
            "",
        ],
        [
            "(d) e2e round trip",
            "size/(upload time+download time)",
            f"{rt_t:.3f}",
            f"{rt:.0f}",
            f"{rt / a:.2f} A",
            ">= 0.50 A",
        ],
    ]
    print(table(["step", "what is timed", "seconds", "MB/s", "ratio", "goal"], rows))
    print(f"round trip plaintext identical: {roundtrip_ok}")
    print(
        f"raw runs (s): age_enc={fmt(t_age_enc)} raw_put={fmt(t_raw)} ingest={fmt(t_ingest)} "
        f"upload={fmt(t_up)} download={fmt(t_down)}"
    )


def fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"


if __name__ == "__main__":
    main()
