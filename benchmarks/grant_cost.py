"""Cost of a standing grant over 1,000 payslips: create, revoke, and keeping it up to date.

Setup: a live `wallet serve` on SQLite, an owner and a grantee account. The owner has N
documents of type payslip: one real upload through the client (vault.upload), K more real
uploads (the "without grant" upload timings below), and N - 1 - K clones of the first one's
rows inserted with SQL (document, document_version, key_wrap), like list_documents.py. Every
clone is a valid document for the client: its own key wrap sealed for its new document id,
and its own manifest (new document_id and wrap hash) signed with the owner's key, so
vault.list_documents() and vault.versions() check and open it as a real one. Blobs are fake
keys (nothing here downloads).

Measured:
  - create_grant(types=["payslip"]) over N documents, wall time, split by the client's request
    log into: GET /people (key lookup), GET /documents pages (list_documents), N x
    GET /documents/{id} (vault.versions for each chosen document), the one POST /grants, and
    the client's own crypto and Python (the rest: unwrap + decrypt + verify of the listing and
    versions, HPKE wrap + Ed25519 statement per document, descriptor seals); bytes sent in
    POST /grants; server time of POST /grants from /metrics.
  - revoke_grant (POST /grants/{id}/revoke: deletes the N wraps), wall and server time.
  - one upload of a new small payslip: K uploads before the grant exists (baseline), K with
    the grant active (wrap_new_version reads the grants and sends one more wrap), K after the
    revoke (information), median each, as ratios of the baseline.
  - check: the grantee lists all N documents under the grant (received_documents).
Run: .venv/bin/python benchmarks/grant_cost.py [--documents 1000] [--uploads 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import (
    FAST_KDF,
    PASSPHRASE,
    RequestLog,
    clone_documents,
    code_version,
    histogram_sum_count,
    live_server,
    median,
    table,
    write_random_file,
)

from wallet.client import ApiClient, Vault
from wallet.client.contacts import PinStore
from wallet.client.grants import create_grant, received_documents, revoke_grant

PAYSLIP_BYTES = 60_000


def timed_uploads(vault: Vault, work: Path, count: int, tag: str) -> tuple[list[float], RequestLog]:
    times = []
    with RequestLog(vault.api) as log:
        for n in range(count):
            path = work / f"payslip-{tag}-{n}.pdf"
            write_random_file(path, PAYSLIP_BYTES)
            started = time.perf_counter()
            vault.upload(path, "payslip", f"Payslip {tag} {n}")
            times.append(time.perf_counter() - started)
            path.unlink()
    return times, log


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--uploads", type=int, default=5)
    args = parser.parse_args()
    total, uploads = args.documents, args.uploads

    with live_server(FAST_KDF, prefix="wallet-bench-grant-") as (server, work):
        owner, _ = Vault.create_account(
            ApiClient(server.url, timeout=300), "bench-owner", PASSPHRASE
        )
        reader, _ = Vault.create_account(
            ApiClient(server.url, timeout=300), "bench-reader", PASSPHRASE
        )
        first = work / "payslip-2024-01.pdf"
        write_random_file(first, PAYSLIP_BYTES)
        document_id, _version = owner.upload(first, "payslip", "Payslip January 2024")
        clone_s = clone_documents(
            server.data_dir / "wallet.db", owner, document_id, total - 1 - uploads
        )

        # Baseline uploads (no grant yet): these are payslips too, so the grant covers N.
        without, without_log = timed_uploads(owner, work, uploads, "before")
        payslips = sum(d.type == "payslip" for d in owner.list_documents())

        metrics0 = server.metrics_text()
        with RequestLog(owner.api) as log:
            started = time.perf_counter()
            grant = create_grant(
                owner, "bench-reader", purpose="mortgage application", types=["payslip"],
                pins=PinStore(None),
            )  # fmt: skip
            create_s = time.perf_counter() - started
        metrics1 = server.metrics_text()
        posts = log.select("POST", "/grants")
        post_s, post_bytes = posts[0].seconds, posts[0].sent
        people_s = log.seconds("GET", "/people/")
        pages = [c for c in log.select("GET", "/documents") if c.path == "/documents"]
        detail = [c for c in log.select("GET", "/documents/")]
        list_s = sum(c.seconds for c in pages)
        detail_s = sum(c.seconds for c in detail)
        http_s = log.seconds()
        crypto_s = create_s - http_s
        s0, c0 = histogram_sum_count(
            metrics0, "wallet_http_request_seconds", "POST", "/api/v1/grants"
        )
        s1, c1 = histogram_sum_count(
            metrics1, "wallet_http_request_seconds", "POST", "/api/v1/grants"
        )
        post_server = (s1 - s0) / (c1 - c0)
        d0, dc0 = histogram_sum_count(
            metrics0, "wallet_http_request_seconds", "GET", "/api/v1/documents/{document_id}"
        )
        d1, dc1 = histogram_sum_count(
            metrics1, "wallet_http_request_seconds", "GET", "/api/v1/documents/{document_id}"
        )
        detail_server = (d1 - d0) / (dc1 - dc0) if dc1 > dc0 else float("nan")

        with_grant, with_log = timed_uploads(owner, work, uploads, "granted")

        granted = received_documents(reader, grant.id, owner.keys.public_signing_key)

        metrics2 = server.metrics_text()
        started = time.perf_counter()
        revoke_grant(owner, grant.id)
        revoke_s = time.perf_counter() - started
        metrics3 = server.metrics_text()
        r0, rc0 = histogram_sum_count(
            metrics2, "wallet_http_request_seconds", "POST", "/api/v1/grants/{grant_id}/revoke"
        )
        r1, rc1 = histogram_sum_count(
            metrics3, "wallet_http_request_seconds", "POST", "/api/v1/grants/{grant_id}/revoke"
        )
        revoke_server = (r1 - r0) / (rc1 - rc0)

        after_revoke, _after_log = timed_uploads(owner, work, uploads, "revoked")
    # fmt: off

    print(
        f"grant_cost: {payslips} payslips ({total - 1 - uploads} cloned with SQL in {clone_s:.1f} s, "
        f"{1 + uploads} uploaded); grant covers {grant.documents}; grantee then sees {len(granted)} (+{uploads} uploaded while active)"
    )
    print(f"code: {code_version()}")
    rows = [
        ["create_grant(types=[payslip]) total", f"{create_s:.3f}", "100%"],
        ["  client: GET /people (key lookup)", f"{people_s:.3f}", f"{people_s / create_s:.0%}"],
        [f"  client: GET /documents x{len(pages)} (list)", f"{list_s:.3f}", f"{list_s / create_s:.0%}"],
        [f"  client: GET /documents/{{id}} x{len(detail)} (versions)", f"{detail_s:.3f}", f"{detail_s / create_s:.0%}"],
        ["  client: crypto + Python (rest)", f"{crypto_s:.3f}", f"{crypto_s / create_s:.0%}"],
        ["  = client-side preparation", f"{create_s - post_s:.3f}", f"{(create_s - post_s) / create_s:.0%}"],
        ["  POST /grants (client wall)", f"{post_s:.3f}", f"{post_s / create_s:.0%}"],
        ["  POST /grants (server, /metrics)", f"{post_server:.3f}", ""],
        ["revoke_grant (client wall)", f"{revoke_s:.3f}", ""],
        ["revoke_grant (server, /metrics)", f"{revoke_server:.3f}", ""],
    ]
    print(table(["what", "seconds", "share"], rows))
    print(
        f"POST /grants sent {post_bytes / 1e6:.2f} MB ({post_bytes / max(grant.documents, 1):.0f} B per "
        f"document); GET /documents/{{id}} mean {ms(detail_s / max(len(detail), 1))} ms client, "
        f"{ms(detail_server)} ms server; create_grant made {len(log.calls)} requests, "
        f"received {sum(c.received for c in log.calls) / 1e6:.2f} MB"
    )
    base = median(without)
    upload_rows = [
        ["without grant (baseline)", ms(base), ms(min(without)), ms(max(without)), "1.00", f"{len(without_log.calls) / uploads:.0f}"],
        ["with the grant active", ms(median(with_grant)), ms(min(with_grant)), ms(max(with_grant)), f"{median(with_grant) / base:.2f}", f"{len(with_log.calls) / uploads:.0f}"],
        ["after revoke (info)", ms(median(after_revoke)), ms(min(after_revoke)), ms(max(after_revoke)), f"{median(after_revoke) / base:.2f}", ""],
    ]
    print(f"one upload of a new {PAYSLIP_BYTES // 1000} kB payslip, {uploads} each, ms")
    print(table(["upload", "median", "min", "max", "x baseline", "requests"], upload_rows))
    upkeep: dict[str, list[float]] = {}
    for call in with_log.calls:
        if call.path.startswith("/grants"):
            name = "GET /grants" if call.path == "/grants" else "POST /grants/{id}/wraps"
            upkeep.setdefault(name, []).append(call.seconds)
    print(
        "grant upkeep per upload with the grant active (client wall, median): "
        + ", ".join(f"{name} {ms(median(times))} ms" for name, times in sorted(upkeep.items()))
    )
    # fmt: on


if __name__ == "__main__":
    main()
