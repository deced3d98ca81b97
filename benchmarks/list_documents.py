"""Listing 10,000 documents: GET /api/v1/documents?limit=10000 and the client's decrypt.

Setup: one account, ONE real document uploaded through the API (vault.upload), then its rows
cloned with SQL straight into the server's SQLite (document, document_version, key_wrap) with
new ids and a distinct fake blob_key each. Each clone gets its own key wrap, sealed by the
client for its new document id (a wrap is bound to the document id), so vault.list_documents()
decrypts every row exactly as it would real ones; the encrypted metadata is the original's.
Manifests and signatures are copies (listing does not check them).

Measured (goal: median server time <= 50 ms):
  - client wall time of 30 GETs with httpx against the live server (median, p90, min, max)
  - server time of the same 30 GETs from the wallet_http_request_seconds histogram on
    /metrics (sum/count: the mean; the histogram gives no median)
  - in process on the same database file: wallet.documents.service.list_page alone, and
    list_page + the endpoint's orjson serialisation, 30 calls each (median, p90)
  - client: vault.list_documents() for all 10,000 (10 pages of 1,000, unwrap + decrypt each)
Run: .venv/bin/python benchmarks/list_documents.py [--documents 10000] [--calls 30]
"""

from __future__ import annotations

import argparse
import time

import httpx
import orjson
from _common import (
    FAST_KDF,
    PASSPHRASE,
    clone_documents,
    histogram_sum_count,
    live_server,
    median,
    percentile,
    table,
    write_random_file,
)
from sqlmodel import Session, select

from wallet.accounts.models import Account
from wallet.client import ApiClient, Vault
from wallet.crypto.encoding import b64e
from wallet.db import make_engine
from wallet.documents import service
from wallet.settings import Settings

GOAL_MS = 50.0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    total, calls = args.documents, args.calls

    with live_server(FAST_KDF, prefix="wallet-bench-list-") as (server, work):
        vault, _recovery = Vault.create_account(
            ApiClient(server.url, timeout=120), "bench-list", PASSPHRASE
        )
        sample = work / "payslip-2024-01.pdf"
        write_random_file(sample, 50_000)
        document_id, _version = vault.upload(sample, "payslip", "Payslip January 2024")
        db_path = server.data_dir / "wallet.db"
        clone_seconds = clone_documents(db_path, vault, document_id, total - 1)

        headers = {"Authorization": f"Bearer {vault.api.token}"}
        url = "/api/v1/documents"
        params = {"limit": total}
        with httpx.Client(base_url=server.url, timeout=120, headers=headers) as http:
            first = http.get(url, params=params)
            first.raise_for_status()
            listed = len(first.json()["documents"])
            body_bytes = len(first.content)
            http.get(url, params=params).raise_for_status()  # warm
            before = histogram_sum_count(
                server.metrics_text(), "wallet_http_request_seconds", "GET", url
            )
            wall = []
            for _ in range(calls):
                started = time.perf_counter()
                response = http.get(url, params=params)
                response.read()
                wall.append(time.perf_counter() - started)
                response.raise_for_status()
            after = histogram_sum_count(
                server.metrics_text(), "wallet_http_request_seconds", "GET", url
            )
            server_mean = (after[0] - before[0]) / (after[1] - before[1])

            # The client: HTTP pages alone, then the whole vault.list_documents().
            fetch_pages = []
            for _ in range(3):
                started = time.perf_counter()
                cursor = None
                pages = 0
                while True:
                    pages += 1
                    page = http.get(
                        url, params={"limit": 1000, **({"cursor": cursor} if cursor else {})}
                    ).json()
                    cursor = page["next_cursor"]
                    if not cursor:
                        break
                fetch_pages.append(time.perf_counter() - started)
        client_full = []
        for _ in range(3):
            started = time.perf_counter()
            documents = vault.list_documents()
            client_full.append(time.perf_counter() - started)
        decrypted = len(documents)
        titles_ok = all(d.title == "Payslip January 2024" for d in documents)

        # In process, on the same database file the live server uses.
        settings = Settings(data_dir=server.data_dir)
        engine = make_engine(settings.resolved_database_url)
        pure, with_json = [], []
        try:
            with Session(engine) as db:
                account = db.exec(select(Account).where(Account.handle == "bench-list")).one()
                service.list_page(db, account, total, None)  # warm
                for _ in range(calls):
                    started = time.perf_counter()
                    page_rows, next_cursor = service.list_page(db, account, total, None)
                    pure.append(time.perf_counter() - started)
                for _ in range(calls):
                    started = time.perf_counter()
                    page_rows, next_cursor = service.list_page(db, account, total, None)
                    orjson.dumps(
                        {"documents": page_rows, "next_cursor": next_cursor},
                        default=lambda v: b64e(v) if isinstance(v, bytes) else str(v),
                    )
                    with_json.append(time.perf_counter() - started)
        finally:
            engine.dispose()

    print(
        f"list_documents: {listed} documents listed ({total - 1} cloned with SQL in "
        f"{clone_seconds:.2f} s), response {body_bytes / 1e6:.2f} MB, {calls} calls, times in ms"
    )
    rows = [
        [
            "GET ?limit=N, client wall (httpx)",
            ms(median(wall)),
            ms(percentile(wall, 0.9)),
            ms(min(wall)),
            ms(max(wall)),
            "",
        ],
        ["GET ?limit=N, server (/metrics mean)", ms(server_mean), "", "", "", f"<= {GOAL_MS:.0f}"],
        [
            "list_page in process (SQL+rows)",
            ms(median(pure)),
            ms(percentile(pure, 0.9)),
            ms(min(pure)),
            ms(max(pure)),
            "",
        ],
        [
            "list_page + orjson in process",
            ms(median(with_json)),
            ms(percentile(with_json, 0.9)),
            ms(min(with_json)),
            ms(max(with_json)),
            f"<= {GOAL_MS:.0f}",
        ],
        [
            f"client: fetch {pages} pages of <=1000 (info)",
            ms(median(fetch_pages)),
            "",
            ms(min(fetch_pages)),
            ms(max(fetch_pages)),
            "",
        ],
        [
            "client: vault.list_documents() (info)",
            ms(median(client_full)),
            "",
            ms(min(client_full)),
            ms(max(client_full)),
            "",
        ],
    ]
    print(table(["what", "median", "p90", "min", "max", "goal"], rows))
    per_doc_us = (median(client_full) - median(fetch_pages)) / decrypted * 1e6
    print(
        f"client decrypted {decrypted} documents, titles intact: {titles_ok}; "
        f"unwrap+decrypt ~ {per_doc_us:.0f} us per document beyond the HTTP fetch"
    )


if __name__ == "__main__":
    main()
