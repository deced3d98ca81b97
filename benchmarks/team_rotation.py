"""Team key rotation: an organisation removes one member, with M members and D granted documents.

Setup (one `wallet serve` on SQLite, grown from size to size): an admin creates the
organisation and adds members through the client until it has M (each member's key fetched and
pinned, the team key sealed to them and signed). An owner has D payslips: one real upload and
SQL clones with their own wrap and signed manifest (like grant_cost.py), and gives the
organisation grants of at most 1,000 documents each, each with one profile field (POST /grants
takes at most 2,000 wraps). Each size ends with one warm-up rotation (not counted) and three
removals of the newest member (M + 2, M + 1, then M members before the removal); the median
removal is printed.

Measured: `remove_member` (= rotate: a new team key for the M - 1 who stay, every document key,
profile key and grant descriptor resealed to it, one POST), split into the reads (GET /orgs/{org}
and GET /orgs/{org}/wraps), the client's crypto (HPKE open + seal per item, one seal + Ed25519
signature per member), and the POST /orgs/{org}/rotate call (client wall, server time from
/metrics); bytes received, bytes sent, and bytes rewritten in the database (the new sealed
values: document and field wraps, grant descriptors, members' sealed team keys and their signed
statements). Then a remaining member lists the grants' documents (a check that it all opens).

Run: .venv/bin/python benchmarks/team_rotation.py [--sizes 50x1250,200x1250,200x5000]
The default sizes vary members and documents one at a time, so the growth of each shows.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from _common import (
    FAST_KDF,
    PASSPHRASE,
    RequestLog,
    clone_documents,
    code_version,
    histogram_sum_count,
    live_server,
    table,
    tree_cpu_seconds,
    write_random_file,
)

from wallet.client import ApiClient, Vault
from wallet.client import organisations as orglib
from wallet.client.contacts import PinStore
from wallet.client.grants import create_org_grant, reader_for, received, received_documents
from wallet.crypto.encoding import b64d

GRANT_SIZE = 1000
REPEATS = 3  # removals per size; the median one is printed
ROTATE_ROUTE = "/api/v1/orgs/{org}/rotate"


@dataclass
class Result:
    members: int
    documents: int
    setup_s: float
    total_s: float
    reads_s: float
    crypto_s: float
    post_s: float
    post_server_s: float
    received: int
    sent: int
    rewritten: int
    items: int
    check_documents: int
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    size: tuple[int, int] = (0, 0)  # the size asked for (members, documents)


def rewritten_bytes(body: dict) -> int:
    """The sealed and signed values the rotation writes over the old ones."""
    total = 0
    for wrap in body["document_wraps"] + body["field_wraps"]:
        total += len(b64d(wrap["wrapped_key"]))
    for grant in body["grants"]:
        total += len(b64d(grant["sealed_for_grantee"]))
    for copy in body["copies"]:
        total += sum(len(b64d(copy[k])) for k in ("sealed_team_key", "statement", "signature"))
    key = body["team_key"]
    total += sum(
        len(b64d(key[k]))
        for k in ("public_encryption_key", "public_signing_key", "statement", "signature")
    )
    return total


def run_all(sizes: list[tuple[int, int]]) -> list[Result]:
    """One server; the organisation and the owner's documents grow from size to size (each
    size must be at least the one before), and each size ends with one rotation."""
    results = []
    with live_server(FAST_KDF, prefix="wallet-bench-team-") as (server, work):

        def account(handle: str) -> Vault:
            return Vault.create_account(ApiClient(server.url, timeout=600), handle, PASSPHRASE)[0]

        admin = account("bench-admin")
        org = orglib.create_org(admin, "CPAS Benchmark")
        pins = PinStore(None)
        staff: list[Vault] = []
        owner = account("bench-owner")
        first = work / "payslip.pdf"
        write_random_file(first, 60_000)
        document_id, _ = owner.upload(first, "payslip", "Payslip 0")
        owner.set_profile_field("address", "Rue Haute 1, 1000 Brussels")
        have_documents, granted, hired = 1, set(), 0
        for members, documents in sizes:
            started = time.perf_counter()
            # Members + REPEATS - 1, so the REPEATS removals measured go from that down to M.
            while len(staff) + 1 < members + REPEATS - 1:
                hired += 1
                staff.append(account(f"bench-worker-{hired}"))
                orglib.add_member(admin, org.handle, staff[-1].account["handle"], pins=pins)
            if documents > have_documents:
                clone_documents(
                    server.data_dir / "wallet.db", owner, document_id, documents - have_documents
                )
                have_documents = documents
            fresh = sorted({d.id for d in owner.list_documents()} - granted)
            for start in range(0, len(fresh), GRANT_SIZE):
                create_org_grant(
                    owner,
                    org.handle,
                    purpose="income file",
                    document_ids=fresh[start : start + GRANT_SIZE],
                    fields=["address"],
                    pins=pins,
                )
            granted |= set(fresh)
            setup_s = time.perf_counter() - started
            orglib.rotate(admin, org.handle, pins=pins)  # warm-up: caches, SQLite pages
            runs = []
            for _ in range(REPEATS):
                runs.append(rotate_once(server, admin, org.handle, staff, owner, pins, setup_s))
                staff.pop()  # removed by the rotation
            runs.sort(key=lambda r: r.client_cpu_s + r.server_cpu_s)
            median_run = runs[len(runs) // 2]
            median_run.size = (members, documents)
            results.append(median_run)
    return results


def rotate_once(server, admin, org, staff, owner, pins, setup_s) -> Result:  # type: ignore[no-untyped-def]
    members = len(staff) + 1  # before the removal
    captured: dict = {}
    metrics0 = server.metrics_text()
    with RequestLog(admin.api) as log:
        recorded = admin.api.request

        def keep_body(method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
            if path.endswith("/rotate"):
                captured.update(kwargs["json"])  # to count the bytes it rewrites
            return recorded(method, path, **kwargs)

        admin.api.request = keep_body
        # CPU time as well as wall time: other work on a shared machine inflates wall time only.
        cpu0, server_cpu0 = time.process_time(), tree_cpu_seconds(server.pid)
        t0 = time.perf_counter()
        rotation = orglib.remove_member(admin, org, staff[-1].account["handle"], pins=pins)
        total_s = time.perf_counter() - t0
        client_cpu_s = time.process_time() - cpu0
        server_cpu_s = tree_cpu_seconds(server.pid) - server_cpu0
    metrics1 = server.metrics_text()
    s0, c0 = histogram_sum_count(metrics0, "wallet_http_request_seconds", "POST", ROTATE_ROUTE)
    s1, c1 = histogram_sum_count(metrics1, "wallet_http_request_seconds", "POST", ROTATE_ROUTE)
    [post] = log.select("POST", "/orgs/")
    reads = log.select("GET")

    # Check: a member who stays opens every granted document under the new key.
    reader = staff[0]
    member_pins = PinStore(None)
    seen = 0
    for grant in received(reader, member_pins):
        team = reader_for(reader, grant, member_pins)
        seen += len(received_documents(reader, grant["id"], owner.keys.public_signing_key, team))
    return Result(
        members=members,
        documents=rotation.documents,
        setup_s=setup_s,
        total_s=total_s,
        reads_s=sum(c.seconds for c in reads),
        crypto_s=total_s - sum(c.seconds for c in log.calls),
        post_s=post.seconds,
        post_server_s=(s1 - s0) / max(c1 - c0, 1),
        received=sum(c.received for c in reads),
        sent=post.sent,
        rewritten=rewritten_bytes(captured),
        items=rotation.documents + rotation.fields + rotation.grants + rotation.members,
        check_documents=seen,
        client_cpu_s=client_cpu_s,
        server_cpu_s=server_cpu_s,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50x1250,200x1250,200x5000", help="MEMBERSxDOCUMENTS")
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in size.split("x")) for size in args.sizes.split(",")]
    results = run_all(sorted(sizes))

    print("team_rotation: remove one member = new team key + reseal everything, one POST")
    print(f"code: {code_version()}")
    rows = [
        [
            f"{r.size[0]} members, {r.size[1]} docs",
            f"{r.total_s:.2f}",
            f"{r.reads_s:.2f}",
            f"{r.crypto_s:.2f}",
            f"{r.post_s:.2f}",
            f"{r.post_server_s:.2f}",
            f"{r.client_cpu_s:.2f}",
            f"{r.server_cpu_s:.2f}",
            f"{r.received / 1e6:.2f}",
            f"{r.sent / 1e6:.2f}",
            f"{r.rewritten / 1e6:.2f}",
            f"{r.check_documents}",
        ]
        for r in results
    ]
    print(
        table(
            [
                "size",
                "total s",
                "reads s",
                "client crypto s",
                "POST s",
                "POST server s",
                "client CPU s",
                "server CPU s",
                "MB received",
                "MB sent",
                "MB rewritten",
                "member sees",
            ],
            rows,
        )
    )
    for r in results:
        print(
            f"  {r.size[0]} x {r.size[1]}: median removal had {r.members} members, "
            f"{r.items} items resealed, "
            f"{r.total_s / r.items * 1000:.2f} ms and {r.rewritten / r.items:.0f} B rewritten per "
            f"item; setup took {r.setup_s:.0f} s"
        )
    by_size = {r.size: r for r in results}
    small, wide, big = by_size.get((50, 1250)), by_size.get((200, 1250)), by_size.get((200, 5000))
    if small and wide and big:

        def cpu(r: Result) -> float:
            return r.client_cpu_s + r.server_cpu_s

        members = wide.members - small.members
        documents = big.items - wide.items
        print(
            f"growth (CPU, client + server): each extra member adds "
            f"{(cpu(wide) - cpu(small)) / members * 1000:.2f} ms and "
            f"{(wide.rewritten - small.rewritten) / members:.0f} B; each extra document adds "
            f"{(cpu(big) - cpu(wide)) / documents * 1000:.3f} ms and "
            f"{(big.rewritten - wide.rewritten) / documents:.0f} B "
            "(linear in members + documents: one seal per member, one open + seal per key)"
        )


if __name__ == "__main__":
    main()
