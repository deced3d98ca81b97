"""Emergency reset (issue 19): the time from the reset to the last access ended, with 50 links,
20 grants and 5 mandates, then to the whole reset done (passphrase and recovery key too).

Setup: a live `wallet serve` on SQLite with the fast test KDF (the Argon2id cost of a real
passphrase is measured by login_kdf.py and adds three derivations to the whole reset: the
check of the current passphrase, the new one, and the proof for the recovery key). One owner
with 3 documents, 20 grantees, 5 proxies, 50 links of 5 uses, and 3 other sessions.

Measured: wall time of end_every_access (GET /safety/reset, the owner's signed head, one
POST /safety/reset that ends everything in one transaction), its server time from /metrics,
and the wall time of the whole reset (that, then emergency_reset, whose own first step
finds nothing left). Check: afterwards the plan is empty.
Run: .venv/bin/python benchmarks/safety_reset.py [--links 50] [--grants 20] [--mandates 5]
"""

from __future__ import annotations

import argparse
import time

from _common import FAST_KDF, PASSPHRASE, code_version, histogram_sum_count, live_server, table

from wallet.client import ApiClient, Vault
from wallet.client.contacts import PinStore
from wallet.client.grants import create_grant
from wallet.client.links import create_link
from wallet.client.mandates import create_mandate
from wallet.client.safety import emergency_reset, end_every_access

ROUTE = "/api/v1/safety/reset"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=50)
    parser.add_argument("--grants", type=int, default=20)
    parser.add_argument("--mandates", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with live_server(FAST_KDF, prefix="wallet-bench-safety-") as (server, work):
        for run in range(args.runs):

            def api() -> ApiClient:
                return ApiClient(server.url, timeout=300)

            owner, _ = Vault.create_account(api(), f"bench-owner-{run}", PASSPHRASE)
            paper = work / "lease.pdf"
            paper.write_bytes(b"%PDF-1.4 lease")
            document_id, _ = owner.upload(paper, "lease", "Lease")
            owner.upload(paper, "payslip", "Payslip")
            owner.upload(paper, "rent_receipt", "Receipt")
            for n in range(args.grants):
                person, _ = Vault.create_account(api(), f"bench-g{run}-{n}", PASSPHRASE)
                create_grant(
                    owner, person.account["handle"], purpose="check", types=["payslip"],
                    pins=PinStore(None),
                )  # fmt: skip
            for n in range(args.mandates):
                proxy, _ = Vault.create_account(api(), f"bench-m{run}-{n}", PASSPHRASE)
                create_mandate(
                    owner, proxy.account["handle"], categories=["housing"], actions=["view"],
                    duration="1m", purpose="housing", pins=PinStore(None),
                )  # fmt: skip
            for _ in range(args.links):
                create_link(owner, [document_id], uses=5)
            for _ in range(3):
                Vault.login(api(), owner.account["handle"], PASSPHRASE)

            before = server.metrics_text()
            started = time.perf_counter()
            ended = end_every_access(owner)
            access_s = time.perf_counter() - started
            after = server.metrics_text()
            s0, c0 = histogram_sum_count(before, "wallet_http_request_seconds", "POST", ROUTE)
            s1, c1 = histogram_sum_count(after, "wallet_http_request_seconds", "POST", ROUTE)
            server_s = (s1 - s0) / max(c1 - c0, 1)
            assert ended["links"] == args.links and ended["grants"] == args.grants
            assert ended["mandates"] == args.mandates
            started = time.perf_counter()
            emergency_reset(owner, PASSPHRASE, PASSPHRASE + " new")
            whole_s = time.perf_counter() - started + access_s
            plan = owner.api.api("GET", "/safety/reset").json()
            assert not (plan["links"] or plan["grants"] or plan["mandates"])
            rows.append((run + 1, f"{access_s * 1000:.0f}", f"{server_s * 1000:.0f}",
                         f"{whole_s * 1000:.0f}"))  # fmt: skip
    print(f"safety_reset ({code_version()}): {args.links} links, {args.grants} grants, "
          f"{args.mandates} mandates, 3 other sessions; SQLite, fast KDF")  # fmt: skip
    print(table(["run", "access ended ms", "server ms (POST)", "whole reset ms"], rows))


if __name__ == "__main__":
    main()
